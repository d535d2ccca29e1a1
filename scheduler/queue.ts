import PgBoss from 'pg-boss';
import type { Logger } from '../log/logger.ts';
import { withStartupLock, type Db, type Store } from '../store/connect.ts';
import { crawlJobPending, lockTargetEnqueue, poolJobQueueDb, transactionJobQueueDb as bossDb } from '../store/crawl-jobs.ts';
import { leaseJobs, releaseJobs } from '../store/processes.ts';

export const CRAWL_QUEUE = 'crawl';

// A crawl that runs for an hour is stuck; pg-boss then fails its job so the target can be crawled again.
const CRAWL_EXPIRE_SECONDS = 3600;

/** A crawl job a process took: crawl the target, then `finish` it. */
export interface ClaimedCrawl {
  jobId: string;
  targetId: string;
}

/**
 * The crawl jobs, on pg-boss. A target has at most one job queued or running: a request for another while one
 * is (a cron fire on a target still crawling) is refused and the caller counts it. Taking a job and recording
 * which process holds it (its lease) is one transaction, so a process that dies holding jobs is found out.
 */
export interface CrawlQueue {
  /** Queues a crawl of the target: the job id, or null when one is already queued or running. */
  enqueue(targetId: string, opts?: { startAfterSeconds?: number }): Promise<string | null>;
  /** Takes up to `max` due jobs for the process and leases them to it. */
  claim(processId: string, max: number): Promise<ClaimedCrawl[]>;
  /** The crawl ran (whatever its outcome): the job is done and its lease gone. */
  finish(jobId: string): Promise<void>;
  /** Jobs whose process died: failed in pg-boss, leases gone, so their targets can be queued again. */
  abandon(jobIds: readonly string[]): Promise<void>;
  stop(): Promise<void>;
}

export async function startCrawlQueue(store: Store, log: Logger): Promise<CrawlQueue> {
  const boss = new PgBoss({ db: poolJobQueueDb(store) });
  boss.on('error', (err) => log.error({ err }, 'job queue error'));
  // Two processes installing pg-boss or creating its queue at the same moment deadlock: one at a time.
  await withStartupLock(store, async () => {
    await boss.start();
    const options = { policy: 'stately', retryLimit: 0, expireInSeconds: CRAWL_EXPIRE_SECONDS } as const;
    await boss.createQueue(CRAWL_QUEUE, { name: CRAWL_QUEUE, ...options });
    await boss.updateQueue(CRAWL_QUEUE, { name: CRAWL_QUEUE, ...options });
  });
  const { db } = store;
  return {
    async enqueue(targetId, opts = {}) {
      return db.transaction().execute(async (trx) => {
        await lockTargetEnqueue(trx, targetId);
        if (await crawlJobPending(trx, CRAWL_QUEUE, targetId)) return null;
        return boss.send(CRAWL_QUEUE, { targetId }, {
          singletonKey: targetId,
          ...(opts.startAfterSeconds ? { startAfter: opts.startAfterSeconds } : {}),
          db: bossDb(trx),
        });
      });
    },
    async claim(processId, max) {
      if (max <= 0) return [];
      return db.transaction().execute(async (trx) => {
        const jobs = await boss.fetch<{ targetId: string }>(CRAWL_QUEUE, { batchSize: max, db: bossDb(trx) });
        const claimed = jobs.map((job) => ({ jobId: job.id, targetId: job.data.targetId }));
        await leaseJobs(trx, claimed.map((c) => ({ ...c, queue: CRAWL_QUEUE, processId })));
        return claimed;
      });
    },
    async finish(jobId) {
      await db.transaction().execute(async (trx) => {
        // pg-boss reads a third argument as the job's output, whatever its types say: options go fourth.
        await boss.complete(CRAWL_QUEUE, jobId, {}, { db: bossDb(trx) });
        await releaseJobs(trx, [jobId]);
      });
    },
    async abandon(jobIds) {
      if (jobIds.length === 0) return;
      await db.transaction().execute(async (trx) => {
        for (const id of jobIds) await boss.fail(CRAWL_QUEUE, id, { reason: 'the process running this crawl stopped' }, { db: bossDb(trx) });
        await releaseJobs(trx, jobIds);
      });
    },
    async stop() {
      await boss.stop({ graceful: false, wait: true, timeout: 5_000 });
    },
  };
}
