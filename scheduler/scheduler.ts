import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from '../log/logger.ts';
import type { Db } from '../store/connect.ts';
import { claimCronFire, recordSkippedRun, setTargetNextRun, targetsToCrawlAtStart } from '../store/targets.ts';
import type { CrawlQueue } from './queue.ts';
import type { ScheduledTarget } from './sync-config.ts';

export interface SchedulerDeps {
  db: Db;
  queue: CrawlQueue;
  log: Logger;
  now: () => Date;
  /** Told when a crawl was queued: a worker in the same process takes it at once instead of at its next poll. */
  onQueued?: () => void;
}

export type FireOutcome = 'queued' | 'skipped' | 'taken';

/**
 * One cron fire of a target: claimed in the store, so of several schedulers only one acts on it ('taken' for
 * the others, and for a target that may not be crawled); then a crawl is queued, or, when the target is still
 * queued or running, the fire is counted as skipped, so a schedule the workers do not keep shows.
 */
export async function fireTarget(deps: SchedulerDeps, targetId: string, firedAt: Date, nextRunAt: Date | null): Promise<FireOutcome> {
  // The slot's own time, to the second: every scheduler claims the same value for the same fire.
  const slot = new Date(Math.floor(firedAt.getTime() / 1000) * 1000);
  if (!(await claimCronFire(deps.db, targetId, slot, nextRunAt))) return 'taken';
  if ((await deps.queue.enqueue(targetId)) !== null) {
    deps.onQueued?.();
    return 'queued';
  }
  await recordSkippedRun(deps.db, targetId, deps.now());
  deps.log.warn({ target: targetId }, 'cron fire skipped: the previous crawl is still queued or running (see skipped_runs in earshot targets)');
  return 'skipped';
}

export interface Scheduler {
  stop(): Promise<void>;
}

/**
 * Cron only enqueues: each target's expression fires `fireTarget`. At start, targets that have never run, whose
 * last crawl was interrupted, or that were waiting for credentials until now (`resumed`) are queued at once.
 */
export async function startScheduler(
  deps: SchedulerDeps,
  targets: readonly ScheduledTarget[],
  opts: { resumed?: readonly string[]; crawlAtStart?: boolean } = {},
): Promise<Scheduler> {
  const tasks: ScheduledTask[] = [];
  for (const target of targets) {
    const task = cron.createTask(
      target.schedule,
      async (context) => {
        try {
          await fireTarget(deps, target.id, context.date, task.getNextRun());
        } catch (err) {
          deps.log.error({ err, target: target.id }, 'cron fire failed');
        }
      },
      { name: target.id, noOverlap: true },
    );
    tasks.push(task);
    await setTargetNextRun(deps.db, target.id, task.getNextRuns(1)[0] ?? null);
  }
  for (const task of tasks) await task.start();
  const ids = targets.map((t) => t.id);
  const first = opts.crawlAtStart === false ? [] : new Set([...(await targetsToCrawlAtStart(deps.db, ids)), ...(opts.resumed ?? [])]);
  const queued: string[] = [];
  for (const id of first) if ((await deps.queue.enqueue(id)) !== null) queued.push(id);
  if (queued.length > 0) {
    deps.log.info({ targets: queued }, 'queued at start: new targets, interrupted crawls and targets whose credentials came');
    deps.onQueued?.();
  }
  return {
    async stop() {
      for (const task of tasks) await task.destroy();
    },
  };
}
