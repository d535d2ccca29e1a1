import { sql } from 'kysely';
import type { Db } from './connect.ts';

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
