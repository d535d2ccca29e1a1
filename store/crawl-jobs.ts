import { CompiledQuery, sql } from 'kysely';
import type { Db, Store } from './connect.ts';

/** How pg-boss runs its statements: on the store's pool, or inside one of our transactions. */
export interface JobQueueDb {
  executeSql(text: string, values?: unknown[]): Promise<{ rows: any[] }>;
}

/** pg-boss on the app's pool: on PGlite a second pool would be a second session that loses jobs. */
export function poolJobQueueDb(store: Store): JobQueueDb {
  return { executeSql: (text, values) => store.pool.query(text, values) };
}

/** pg-boss's statements inside our transaction: taking a job and leasing it commit together. */
export function transactionJobQueueDb(trx: Db): JobQueueDb {
  return {
    async executeSql(text, values = []) {
      const result = await trx.executeQuery(CompiledQuery.raw(text, values));
      return { rows: result.rows as any[] };
    },
  };
}

const ENQUEUE_LOCK = 7262002;

/** Serializes enqueueing a target's crawl until the transaction ends: the pending check and the send go together. */
export async function lockTargetEnqueue(trx: Db, targetId: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(${ENQUEUE_LOCK}, hashtext(${targetId}))`.execute(trx);
}

// pg-boss keeps its jobs in pgboss.job; these read it where pg-boss has no call for the question.

/**
 * Whether a crawl job of the target is queued or running. Answered from pg-boss's own partial index on
 * (name, state, singleton key) of the stately queue, so it costs the same however many jobs are archived.
 */
export async function crawlJobPending(db: Db, queue: string, targetId: string): Promise<boolean> {
  const { rows } = await sql<{ one: number }>`
    SELECT 1 AS one FROM pgboss.job
    WHERE name = ${queue} AND state <= 'active' AND policy = 'stately' AND COALESCE(singleton_key, '') = ${targetId}
    LIMIT 1
  `.execute(db);
  return rows.length > 0;
}

/**
 * Running crawl jobs no process holds a lease on: left by a process that died before leases existed, or (with
 * `startedBefore`) for longer than any live process takes to lease what it fetched. Null: all of them.
 */
export async function unleasedActiveJobs(db: Db, queue: string, startedBefore: number | null): Promise<{ id: string; targetId: string }[]> {
  const { rows } = await sql<{ id: string; target_id: string }>`
    SELECT j.id::text AS id, COALESCE(j.singleton_key, '') AS target_id FROM pgboss.job j
    WHERE j.name = ${queue} AND j.state = 'active'
      AND NOT EXISTS (SELECT 1 FROM job_leases l WHERE l.job_id = j.id)
      AND (${startedBefore}::float8 IS NULL OR j.started_on < now() - make_interval(secs => ${startedBefore}::float8 / 1000))
  `.execute(db);
  return rows.map((r) => ({ id: r.id, targetId: r.target_id }));
}
