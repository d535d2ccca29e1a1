import type { Logger } from '../log/logger.ts';
import type { Db } from '../store/connect.ts';
import { isTargetCrawlable } from '../store/targets.ts';
import { deliverDueOutbox, nextFreeSlot, sleeperOf, type DeliveryDeps, type DeliveryReport } from '../delivery/outbox.ts';
import type { ClaimedCrawl, CrawlQueue } from './queue.ts';
import { CrawlInterruptedError, runCrawl, type CrawlDeps, type CrawlSummary } from './run-crawl.ts';
import type { ScheduledTarget } from './sync-config.ts';

export interface CrawlJobDeps {
  db: Db;
  crawl: CrawlDeps;
  log: Logger;
  /** The target as this process's config describes it; undefined when its config has no such target. */
  targetOf(id: string): Promise<ScheduledTarget | undefined>;
}

/**
 * The crawl job: crawls the target, unless it may not be crawled now (disabled in config, or waiting for
 * credentials since it was queued). Null when it was not crawled.
 */
export async function handleCrawlJob(deps: CrawlJobDeps, job: { targetId: string }, signal?: AbortSignal): Promise<CrawlSummary | null> {
  if (!(await isTargetCrawlable(deps.db, job.targetId))) {
    deps.log.info({ target: job.targetId }, 'crawl dropped: the target is disabled or waits for credentials');
    return null;
  }
  const target = await deps.targetOf(job.targetId);
  if (!target) {
    deps.log.warn({ target: job.targetId }, "crawl dropped: this process's config has no such target (is every process on the same config?)");
    return null;
  }
  return runCrawl(signal ? { ...deps.crawl, signal } : deps.crawl, target);
}

/**
 * The delivery job: delivers due outbox rows until none is left. Rows are leased, so workers never clash. Rows
 * held back by a destination's rate limit are waited for, so a rate-limited helpdesk drains at its own pace
 * rather than one row per poll. Once `stopping` says so, it returns after the batch in hand: the rest waits for
 * the next worker, rather than holding this one's shutdown for as long as a backlog takes.
 */
export async function handleDueDeliveries(
  deps: DeliveryDeps,
  opts: { stopping?: () => boolean } = {},
): Promise<DeliveryReport> {
  const total: DeliveryReport = { delivered: 0, retrying: 0, dead: 0, parked: 0, deferred: 0, suppressed: 0 };
  const sleep = sleeperOf(deps);
  for (;;) {
    const report = await deliverDueOutbox(deps);
    total.delivered += report.delivered;
    total.retrying += report.retrying;
    total.dead += report.dead;
    total.parked += report.parked;
    total.deferred += report.deferred;
    total.suppressed += report.suppressed;
    // A stopping worker finishes the batch it claimed, not the whole backlog.
    if (opts.stopping?.()) return total;
    if (report.delivered + report.retrying + report.dead + report.parked + report.suppressed > 0) continue;
    // Nothing went out: rows held back by a rate limit come due at the next free slot, so wait for it once more.
    const free = nextFreeSlot(deps);
    if (free === null) return total;
    await sleep(Math.min(free - deps.now().getTime(), MAX_SLOT_WAIT_MS));
  }
}

// A slot further away than this is left to the next poll.
const MAX_SLOT_WAIT_MS = 10_000;

export interface WorkerDeps extends CrawlJobDeps {
  queue: CrawlQueue;
  delivery: DeliveryDeps;
  processId: string;
  /** Crawls at once; per-host politeness still spaces requests to one host. */
  concurrency: number;
  /** How often an idle worker asks the queue for jobs (a local scheduler wakes it at once). */
  pollMs?: number;
  /** How often it looks for due deliveries (a crawl that opened tickets wakes it at once). */
  deliveryPollMs?: number;
  /** How long stopping waits for running crawls before interrupting them. */
  stopGraceMs?: number;
  /** Runs every `recoverEveryMs`: takes back the jobs of processes that died (on PostgreSQL). */
  recover?: () => Promise<unknown>;
  /** Runs every `slaEveryMs`: raises the SLA warnings and breaches that fell due. */
  sweepSla?: () => Promise<unknown>;
  slaEveryMs?: number;
  /** Runs every `alertsEveryMs`: crisis detection, incident reminders, digests. */
  sweepAlerts?: () => Promise<unknown>;
  alertsEveryMs?: number;
  recoverEveryMs?: number;
}

export interface Worker {
  /** Look for jobs now (a job was just queued). */
  wake(): void;
  /** Crawls running now. */
  running(): number;
  /**
   * Stops taking jobs; running crawls get `stopGraceMs` to finish (or until `cutShort` is aborted), then are
   * interrupted and queued again.
   */
  stop(opts?: { cutShort?: AbortSignal }): Promise<void>;
}

/**
 * Runs up to `concurrency` crawl jobs at once, taking more as soon as a slot frees, and delivers the outbox
 * between crawls. Any number of workers on any hosts share the queue.
 */
export function startWorker(deps: WorkerDeps): Worker {
  const running = new Map<string, { abort: AbortController; done: Promise<void> }>();
  let stopping = false;

  async function runJob(job: ClaimedCrawl, abort: AbortController): Promise<void> {
    let retryAfterSeconds: number | undefined;
    try {
      const summary = await handleCrawlJob(deps, job, abort.signal);
      if (summary && summary.tickets > 0) deliver();
      if (summary?.retryAfterMs !== undefined) retryAfterSeconds = Math.max(1, Math.ceil(summary.retryAfterMs / 1000));
      if (summary?.status === 'interrupted') retryAfterSeconds = 0;
    } catch (err) {
      deps.log.error({ err, target: job.targetId }, 'crawl job failed');
    }
    try {
      await deps.queue.finish(job.jobId);
      // A source that asked us to slow down is crawled again after its Retry-After, not at the next cron
      // tick; an interrupted crawl at once, by whichever worker is free.
      if (retryAfterSeconds !== undefined) {
        await deps.queue.enqueue(job.targetId, retryAfterSeconds > 0 ? { startAfterSeconds: retryAfterSeconds } : {});
        if (retryAfterSeconds > 0) deps.log.info({ target: job.targetId, startAfter: retryAfterSeconds }, 'rate limited: crawl queued again after Retry-After');
      }
    } catch (err) {
      deps.log.error({ err, target: job.targetId }, 'could not finish the crawl job; it comes back when this process is found dead');
    }
  }

  async function pumpOnce(): Promise<void> {
    while (!stopping) {
      const free = deps.concurrency - running.size;
      if (free <= 0) return;
      const jobs = await deps.queue.claim(deps.processId, free);
      for (const job of jobs) {
        const abort = new AbortController();
        const entry = { abort, done: Promise.resolve() };
        running.set(job.jobId, entry);
        entry.done = runJob(job, abort).finally(() => {
          running.delete(job.jobId);
          pump();
        });
      }
      if (jobs.length < free) return;
    }
  }

  const warn = (what: string) => (err: unknown) => deps.log.warn({ err: (err as Error).message }, `${what}; trying again`);
  const pumping = serialized(pumpOnce, warn('could not take crawl jobs'));
  const delivering = serialized(() => handleDueDeliveries(deps.delivery, { stopping: () => stopping }), warn('delivery round failed'));
  const recovering = serialized(deps.recover ?? (async () => undefined), warn('recovery sweep failed'));
  const sweeping = serialized(deps.sweepSla ?? (async () => undefined), warn('SLA sweep failed'));
  // An alert sweep queues messages: deliver them right after.
  const alerting = serialized(async () => {
    await deps.sweepAlerts?.();
    deliver();
  }, warn('alert sweep failed'));
  const whileRunning = (task: { request(): void }) => () => {
    if (!stopping) task.request();
  };
  const pump = whileRunning(pumping);
  const deliver = whileRunning(delivering);
  const recover = whileRunning(recovering);
  const sweep = whileRunning(sweeping);
  const alert = whileRunning(alerting);

  const timers = [
    setInterval(pump, deps.pollMs ?? 1_000),
    setInterval(deliver, deps.deliveryPollMs ?? 2_000),
    ...(deps.recover ? [setInterval(recover, deps.recoverEveryMs ?? 10_000)] : []),
    ...(deps.sweepSla ? [setInterval(sweep, deps.slaEveryMs ?? 30_000)] : []),
    ...(deps.sweepAlerts ? [setInterval(alert, deps.alertsEveryMs ?? 60_000)] : []),
  ];
  pump();
  deliver();

  return {
    wake: pump,
    running: () => running.size,
    async stop(opts = {}) {
      stopping = true;
      for (const timer of timers) clearInterval(timer);
      await pumping.settled();
      const all = () => Promise.all([...running.values()].map((r) => r.done));
      let timer: NodeJS.Timeout | undefined;
      let onCut: (() => void) | undefined;
      const grace = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), deps.stopGraceMs ?? 10_000).unref();
        onCut = () => resolve('late');
        if (opts.cutShort?.aborted) onCut();
        opts.cutShort?.addEventListener('abort', onCut, { once: true });
      });
      try {
        if ((await Promise.race([all(), grace])) === 'late') {
          for (const r of running.values()) r.abort.abort(new CrawlInterruptedError('the worker stopped before the crawl finished'));
          await all();
        }
      } finally {
        clearTimeout(timer);
        if (onCut) opts.cutShort?.removeEventListener('abort', onCut);
      }
      await delivering.settled();
      await recovering.settled();
      await sweeping.settled();
      await alerting.settled();
    },
  };
}

/**
 * Runs `task` at most once at a time: asked while it runs, it runs once more afterwards (what changed during
 * the run is seen), however often it was asked meanwhile.
 */
function serialized(task: () => Promise<unknown>, onError: (err: unknown) => void): { request(): void; settled(): Promise<void> } {
  let current: Promise<void> | null = null;
  let again = false;
  const request = (): void => {
    if (current) {
      again = true;
      return;
    }
    current = task()
      .then(() => undefined, onError)
      .finally(() => {
        current = null;
        if (again) {
          again = false;
          request();
        }
      });
  };
  return { request, settled: async () => void (await current) };
}
