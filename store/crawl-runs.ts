import { sql } from 'kysely';
import type { Db } from './connect.ts';
import type { CrawlRunStatus } from './schema.ts';

export interface CrawlCounts {
  pages: number;
  fetched: number;
  new: number;
  updated: number;
  duplicates: number;
  unmatched: number;
  tickets: number;
}

export async function startCrawlRun(db: Db, targetId: string, at: Date, processId: string | null = null): Promise<string> {
  const row = await db
    .insertInto('crawl_runs')
    .values({ target_id: targetId, status: 'running', started_at: at, pages: 0, fetched: 0, new: 0, updated: 0, duplicates: 0, unmatched: 0, tickets: 0, process_id: processId })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** Counters are written with each page, so a crawl killed half-way still shows what it stored. */
export async function recordCrawlProgress(db: Db, runId: string, counts: CrawlCounts): Promise<void> {
  await db.updateTable('crawl_runs').set(counts).where('id', '=', runId).execute();
}

export async function finishCrawlRun(
  db: Db,
  runId: string,
  outcome: { status: Exclude<CrawlRunStatus, 'running'>; errorKind?: string; error?: string },
  at: Date,
): Promise<void> {
  await db
    .updateTable('crawl_runs')
    .set({ status: outcome.status, finished_at: at, error_kind: outcome.errorKind ?? null, error: outcome.error ?? null })
    .where('id', '=', runId)
    .execute();
}

/** Whether the target's latest finished-or-abandoned run completed; only then may paging stop at seen ids. */
export async function lastRunCompleted(db: Db, targetId: string, excludeRunId?: string): Promise<boolean> {
  let query = db.selectFrom('crawl_runs').select('status').where('target_id', '=', targetId);
  if (excludeRunId) query = query.where('id', '!=', excludeRunId);
  const last = await query.orderBy('id', 'desc').limit(1).executeTakeFirst();
  return last?.status === 'ok';
}

/**
 * Closes the runs still marked running by processes that died (or, with `allBut`, by every process but the
 * one given, and by none recorded): what they stored stays, the next crawl pages through everything again.
 * Returns the targets whose crawl was interrupted.
 */
export async function interruptCrawlRuns(
  db: Db,
  processes: { dead: readonly string[] } | { allBut: string },
  at: Date,
): Promise<string[]> {
  let query = db
    .updateTable('crawl_runs')
    .set({ status: 'interrupted', finished_at: at, error_kind: 'Interrupted', error: 'the process running this crawl stopped (killed or crashed) before it finished' })
    .where('status', '=', 'running');
  if ('dead' in processes) {
    if (processes.dead.length === 0) return [];
    query = query.where('process_id', 'in', processes.dead);
  } else {
    query = query.where((eb) => eb.or([eb('process_id', 'is', null), eb('process_id', '!=', processes.allBut)]));
  }
  const rows = await query.returning('target_id').execute();
  return [...new Set(rows.map((r) => r.target_id))];
}

/** Medians of the last five completed crawls of each target: how long one takes and how many pages. */
export async function recentCrawlStats(db: Db, targetIds: readonly string[]): Promise<Map<string, { durationMs: number; pages: number }>> {
  if (targetIds.length === 0) return new Map();
  const { rows } = await sql<{ target_id: string; duration_ms: number; pages: number }>`
    SELECT target_id,
      percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - started_at) * 1000)::float8 AS duration_ms,
      percentile_cont(0.5) WITHIN GROUP (ORDER BY pages)::float8 AS pages
    FROM (
      SELECT target_id, started_at, finished_at, pages,
        row_number() OVER (PARTITION BY target_id ORDER BY id DESC) AS n
      FROM crawl_runs WHERE status = 'ok' AND target_id = ANY(${targetIds}::text[])
    ) recent
    WHERE n <= 5
    GROUP BY target_id
  `.execute(db);
  return new Map(rows.map((r) => [r.target_id, { durationMs: r.duration_ms, pages: Math.max(1, r.pages) }]));
}
