import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from '../log/logger.ts';
import type { Db } from '../store/connect.ts';
import { interruptCrawlRuns } from '../store/crawl-runs.ts';
import { unleasedActiveJobs } from '../store/crawl-jobs.ts';
import { beatProcess, leasesOf, listProcesses, registerProcess, removeProcesses, type ProcessInfo } from '../store/processes.ts';
import { isTargetCrawlable } from '../store/targets.ts';
import { CRAWL_QUEUE, type CrawlQueue } from './queue.ts';

/** How often a process says it is alive, and how long a silence makes it dead. */
export const HEARTBEAT_MS = 5_000;
export const STALE_AFTER_MS = 30_000;

/** Who this process is, for the processes table. */
export function describeThisProcess(role: string, concurrency: number): ProcessInfo {
  return { id: randomUUID(), role, host: hostname(), pid: process.pid, concurrency };
}

export interface Heartbeat {
  /** Stops beating and removes the process's row. */
  stop(): Promise<void>;
}

/**
 * Registers the process and keeps its heartbeat. Should another process have found it dead (a stall longer than
 * the staleness, a database outage), it registers again: its jobs are already back in the queue.
 */
export async function startHeartbeat(db: Db, self: ProcessInfo, log: Logger, intervalMs = HEARTBEAT_MS): Promise<Heartbeat> {
  await registerProcess(db, self);
  let beating: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    beating = (async () => {
      try {
        if (!(await beatProcess(db, self.id))) {
          log.error({ process: self.id }, 'this process was taken for dead and its jobs handed back; registering again');
          await registerProcess(db, self);
        }
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'heartbeat failed; trying again');
      }
    })();
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await beating;
      await removeProcesses(db, [self.id]);
    },
  };
}

export interface RecoveryDeps {
  db: Db;
  queue: CrawlQueue;
  log: Logger;
  now: () => Date;
  self: ProcessInfo;
  /**
   * True on PGlite: the data directory's lock makes this the only process, so every other one is dead.
   * Else a process is dead when its heartbeat is stale, or at once when it ran on this host and its pid is gone.
   */
  onlyProcess: boolean;
  staleAfterMs?: number;
  isAlive?: (pid: number) => boolean;
}

export interface Recovery {
  /** Processes found dead and removed. */
  dead: string[];
  /** Targets whose crawl they left unfinished, queued again. */
  requeued: string[];
}

/**
 * Hands back what dead processes held: their crawl jobs are failed in pg-boss (so the target can be queued
 * again), their crawl runs closed as interrupted, and the targets queued at once. What they stored stays, and
 * the next crawl of each target pages through everything again, so nothing is lost or doubled.
 */
export async function recoverDeadProcesses(deps: RecoveryDeps): Promise<Recovery> {
  const staleAfterMs = deps.staleAfterMs ?? STALE_AFTER_MS;
  const isAlive = deps.isAlive ?? isPidAlive;
  const processes = await listProcesses(deps.db, { staleAfterMs });
  const dead = processes
    .filter((p) => p.id !== deps.self.id)
    .filter((p) => deps.onlyProcess || p.stale || (p.host === deps.self.host && !isAlive(p.pid)))
    .map((p) => p.id);
  const leases = await leasesOf(deps.db, dead);
  // Jobs running with no lease: taken by a process of an earlier version, or by one that is gone.
  const orphans = await unleasedActiveJobs(deps.db, CRAWL_QUEUE, deps.onlyProcess ? null : staleAfterMs);
  await deps.queue.abandon([...leases.map((l) => l.jobId), ...orphans.map((o) => o.id)]);
  const interrupted = await interruptCrawlRuns(deps.db, deps.onlyProcess ? { allBut: deps.self.id } : { dead }, deps.now());
  await removeProcesses(deps.db, dead);
  const requeued: string[] = [];
  for (const target of new Set([...leases.map((l) => l.targetId), ...orphans.map((o) => o.targetId), ...interrupted])) {
    if (target !== '' && (await isTargetCrawlable(deps.db, target)) && (await deps.queue.enqueue(target)) !== null) requeued.push(target);
  }
  if (dead.length + orphans.length + interrupted.length > 0) {
    deps.log.warn({ dead, orphanJobs: orphans.length, interrupted, requeued }, 'took back the crawls of stopped processes');
  }
  return { dead, requeued };
}

function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
