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

export async function startCrawlRun(db: Db, targetId: string, at: Date): Promise<string> {
  const row = await db
    .insertInto('crawl_runs')
    .values({ target_id: targetId, status: 'running', started_at: at, pages: 0, fetched: 0, new: 0, updated: 0, duplicates: 0, unmatched: 0, tickets: 0 })
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
