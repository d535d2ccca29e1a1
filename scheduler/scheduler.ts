import cron, { type ScheduledTask } from 'node-cron';
import PgBoss from 'pg-boss';
import type { Logger } from '../log/logger.ts';
import type { Store } from '../store/connect.ts';
import { setTargetNextRun } from '../store/targets.ts';
import { deliverDueOutbox, type DeliveryDeps } from '../tickets/outbox.ts';
import { runCrawl, type CrawlDeps } from './run-crawl.ts';
import type { ScheduledTarget } from './sync-config.ts';

export const CRAWL_QUEUE = 'crawl';
export const OUTBOX_QUEUE = 'outbox';

export interface SchedulerDeps {
  store: Store;
  crawl: CrawlDeps;
  delivery: DeliveryDeps;
  log: Logger;
  /** How often idle workers look for jobs; pg-boss polls. */
  pollingIntervalSeconds?: number;
  /**
   * Queue a crawl at start for every target that has never run (default true): a target just added to the
   * config is crawled now and shows its health, instead of waiting for its first cron tick.
   */
  crawlNewTargetsAtStart?: boolean;
}

export interface Scheduler {
  boss: PgBoss;
  /** Enqueues a crawl of the target now; null when one is already queued (singleton per target). */
  enqueueCrawl(targetId: string): Promise<string | null>;
  stop(): Promise<void>;
}

/**
 * Cron only enqueues: each target's expression sends a `crawl` job whose singleton key is the target,
 * on a stately queue, so two schedulers (or a slow run) never queue the same target twice. Workers run
 * `runCrawl`; deliveries run on their own queue, kicked after a crawl that opened tickets and every minute.
 */
export async function startScheduler(deps: SchedulerDeps, targets: readonly ScheduledTarget[]): Promise<Scheduler> {
  const { store, log } = deps;
  // pg-boss shares the app's pool: on PGlite a second pool would be a second session that loses jobs.
  const boss = new PgBoss({ db: { executeSql: (text, values) => store.pool.query(text, values) } });
  boss.on('error', (err) => log.error({ err }, 'job queue error'));
  await boss.start();
  await boss.createQueue(CRAWL_QUEUE, { name: CRAWL_QUEUE, policy: 'stately', retryLimit: 0 });
  await boss.createQueue(OUTBOX_QUEUE, { name: OUTBOX_QUEUE, policy: 'singleton', retryLimit: 0 });

  const byId = new Map(targets.map((t) => [t.id, t]));
  const enqueueCrawl = (targetId: string) => boss.send(CRAWL_QUEUE, { targetId }, { singletonKey: targetId });
  const kickOutbox = () => boss.send(OUTBOX_QUEUE, {}, { singletonKey: 'outbox' });

  await boss.work<{ targetId: string }>(CRAWL_QUEUE, { batchSize: 1, pollingIntervalSeconds: deps.pollingIntervalSeconds ?? 2 }, async ([job]) => {
    const target = job && byId.get(job.data.targetId);
    if (!target) return;
    const summary = await runCrawl(deps.crawl, target);
    if (summary.tickets > 0) await kickOutbox();
    if (summary.retryAfterMs !== undefined) {
      const startAfter = Math.max(1, Math.ceil(summary.retryAfterMs / 1000));
      await boss.send(CRAWL_QUEUE, { targetId: target.id }, { singletonKey: target.id, startAfter });
      log.info({ target: target.id, startAfter }, 'rate limited: crawl queued again after Retry-After');
    }
  });
  await boss.work(OUTBOX_QUEUE, { batchSize: 1, pollingIntervalSeconds: deps.pollingIntervalSeconds ?? 5 }, async () => {
    for (;;) {
      const report = await deliverDueOutbox(deps.delivery);
      if (report.delivered + report.retrying + report.dead === 0) break;
    }
  });

  const tasks: ScheduledTask[] = [];
  for (const target of targets) {
    const task = cron.schedule(target.schedule, async () => {
      const id = await enqueueCrawl(target.id);
      log.info({ target: target.id, queued: id !== null }, 'crawl scheduled');
      await setTargetNextRun(store.db, target.id, task.getNextRun());
    }, { name: target.id, noOverlap: true });
    tasks.push(task);
    await setTargetNextRun(store.db, target.id, task.getNextRun());
  }
  const outboxTick = cron.schedule('* * * * *', () => void kickOutbox(), { name: 'outbox', noOverlap: true });
  await kickOutbox();
  if ((deps.crawlNewTargetsAtStart ?? true) && targets.length > 0) {
    const neverRun = await store.db
      .selectFrom('targets')
      .select('id')
      .where('id', 'in', targets.map((t) => t.id))
      .where('last_run_at', 'is', null)
      .execute();
    for (const { id } of neverRun) await enqueueCrawl(id);
    if (neverRun.length > 0) log.info({ targets: neverRun.map((t) => t.id) }, 'new targets queued for a first crawl');
  }

  return {
    boss,
    enqueueCrawl,
    async stop() {
      for (const task of [...tasks, outboxTick]) await task.destroy();
      await boss.stop({ graceful: true, wait: true, timeout: 10_000 });
    },
  };
}
