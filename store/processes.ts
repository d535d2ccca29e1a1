import { sql } from 'kysely';
import type { Db } from './connect.ts';

export interface ProcessInfo {
  id: string;
  /** What it runs: run, worker, scheduler, crawl (a CLI crawl). */
  role: string;
  host: string;
  pid: number;
  /** Crawls it runs at once; 0 for a process that takes no crawl jobs. */
  concurrency: number;
}

export interface ProcessState extends ProcessInfo {
  startedAt: Date;
  heartbeatAt: Date;
  /** No heartbeat for longer than the staleness asked for, by the database's clock. */
  stale: boolean;
}

/** Registers a process; its heartbeat starts now, by the database's clock (hosts' clocks may differ). */
export async function registerProcess(db: Db, info: ProcessInfo): Promise<void> {
  await db
    .insertInto('processes')
    .values({ ...info, started_at: sql<Date>`now()`, heartbeat_at: sql<Date>`now()` })
    .onConflict((oc) => oc.column('id').doUpdateSet({ heartbeat_at: sql<Date>`now()` }))
    .execute();
}

/** One heartbeat. False when the row is gone: another process found this one dead and took its jobs back. */
export async function beatProcess(db: Db, id: string): Promise<boolean> {
  const row = await db.updateTable('processes').set({ heartbeat_at: sql<Date>`now()` }).where('id', '=', id).returning('id').executeTakeFirst();
  return row !== undefined;
}

export async function removeProcesses(db: Db, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await db.deleteFrom('processes').where('id', 'in', ids).execute();
}

export async function listProcesses(db: Db, opts: { staleAfterMs: number }): Promise<ProcessState[]> {
  const rows = await db
    .selectFrom('processes')
    .select([
      'id', 'role', 'host', 'pid', 'concurrency', 'started_at', 'heartbeat_at',
      sql<boolean>`heartbeat_at < now() - make_interval(secs => ${opts.staleAfterMs / 1000})`.as('stale'),
    ])
    .orderBy('started_at')
    .execute();
  return rows.map((r) => ({
    id: r.id, role: r.role, host: r.host, pid: r.pid, concurrency: r.concurrency, startedAt: r.started_at, heartbeatAt: r.heartbeat_at, stale: r.stale,
  }));
}

export interface JobLease {
  jobId: string;
  queue: string;
  targetId: string;
  processId: string;
}

/** Records which process took which jobs; called in the transaction that takes them from the queue. */
export async function leaseJobs(db: Db, leases: readonly JobLease[]): Promise<void> {
  if (leases.length === 0) return;
  await db
    .insertInto('job_leases')
    .values(leases.map((l) => ({ job_id: l.jobId, queue: l.queue, target_id: l.targetId, process_id: l.processId, leased_at: sql<Date>`now()` })))
    .execute();
}

export async function releaseJobs(db: Db, jobIds: readonly string[]): Promise<void> {
  if (jobIds.length === 0) return;
  await db.deleteFrom('job_leases').where('job_id', 'in', jobIds).execute();
}

export async function leasesOf(db: Db, processIds: readonly string[]): Promise<JobLease[]> {
  if (processIds.length === 0) return [];
  const rows = await db.selectFrom('job_leases').selectAll().where('process_id', 'in', processIds).execute();
  return rows.map((r) => ({ jobId: r.job_id, queue: r.queue, targetId: r.target_id, processId: r.process_id }));
}
