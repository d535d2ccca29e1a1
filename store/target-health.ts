import { sql } from 'kysely';
import type { Db } from './connect.ts';
import type { CrawlRunStatus, TargetState } from './schema.ts';

export interface TargetLastRun {
  status: CrawlRunStatus;
  startedAt: Date;
  finishedAt: Date | null;
  fetched: number;
  new: number;
  updated: number;
  duplicates: number;
  tickets: number;
  error: string | null;
}

export interface TargetHealth {
  id: string;
  source: string;
  /** The first of its brands: the one that owns its reviews or page. */
  brand: string;
  /** Every brand the target listens for, in config order. */
  brands: string[];
  state: TargetState;
  enabled: boolean;
  schedule: string;
  lastRunAt: Date | null;
  lastSuccessAt: Date | null;
  lastErrorAt: Date | null;
  lastError: string | null;
  consecutiveErrors: number;
  nextRunAt: Date | null;
  /** Mentions of the target first seen in the 24 hours before `now`. */
  mentions24h: number;
  /** Newest mention's date (published, or first seen when the source gives none). */
  lastMentionAt: Date | null;
  expectedQuietDays: number;
  /** Enabled, and no mention (or, with none yet, no target) newer than its quiet period. */
  silent: boolean;
  team: string | null;
  lastRun: TargetLastRun | null;
  /** Cron fires that found the target still queued or running: the workers did not keep up with its schedule. */
  skippedRuns: number;
  lastSkippedAt: Date | null;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * How long a target has been silent, in ms, when that is longer than its quiet period; null otherwise. The
 * silence runs from its newest mention or, with none yet, from when the target was added.
 */
export function silenceOf(target: { latestMentionAt: Date | null; createdAt: Date; expectedQuietDays: number }, now: Date): number | null {
  const quietMs = now.getTime() - (target.latestMentionAt ?? target.createdAt).getTime();
  return quietMs > target.expectedQuietDays * DAY_MS ? quietMs : null;
}

export async function listTargetHealth(db: Db, opts: { now: Date }): Promise<TargetHealth[]> {
  const since = new Date(opts.now.getTime() - DAY_MS);
  const [targets, counts, runs, latest] = await Promise.all([
    db
      .selectFrom('targets as t')
      .innerJoin('brands as b', 'b.id', 't.brand_id')
      .select([
        't.id', 't.source', 'b.name as brand', 't.state', 't.enabled', 't.schedule', 't.last_run_at',
        't.last_success_at', 't.last_error_at', 't.last_error', 't.consecutive_errors', 't.next_run_at',
        't.team', 't.expected_quiet_days', 't.created_at', 't.skipped_runs', 't.last_skipped_at',
        sql<string[]>`array(SELECT b2.name FROM target_brands tb JOIN brands b2 ON b2.id = tb.brand_id WHERE tb.target_id = t.id ORDER BY tb.position)`.as('brands'),
      ])
      .orderBy('t.id')
      .execute(),
    db
      .selectFrom('mentions')
      .select(['target_id', (eb) => eb.fn.countAll<string>().as('count')])
      .where('target_id', 'is not', null)
      .where('first_seen_at', '>', since)
      .where('first_seen_at', '<=', opts.now)
      .groupBy('target_id')
      .execute(),
    db
      .selectFrom('crawl_runs')
      .distinctOn('target_id')
      .select(['target_id', 'status', 'started_at', 'finished_at', 'fetched', 'new', 'updated', 'duplicates', 'tickets', 'error'])
      .orderBy('target_id')
      .orderBy(sql`id`, 'desc')
      .execute(),
    db
      .selectFrom('mentions')
      .distinctOn('target_id')
      .select(['target_id', sql<Date>`coalesce(published_at, first_seen_at)`.as('at')])
      .where('target_id', 'is not', null)
      .orderBy('target_id')
      .orderBy(sql`coalesce(published_at, first_seen_at)`, 'desc')
      .execute(),
  ]);
  const latestByTarget = new Map(latest.map((row) => [row.target_id, new Date(row.at)]));
  const countByTarget = new Map(counts.map((row) => [row.target_id, Number(row.count)]));
  const runByTarget = new Map(runs.map((row) => [row.target_id, row]));
  return targets.map((target) => {
    const run = runByTarget.get(target.id);
    const lastMentionAt = latestByTarget.get(target.id) ?? null;
    const silence = silenceOf({ latestMentionAt: lastMentionAt, createdAt: target.created_at, expectedQuietDays: target.expected_quiet_days }, opts.now);
    return {
      id: target.id,
      source: target.source,
      brand: target.brand,
      brands: target.brands,
      state: target.state,
      enabled: target.enabled,
      schedule: target.schedule,
      lastRunAt: target.last_run_at,
      lastSuccessAt: target.last_success_at,
      lastErrorAt: target.last_error_at,
      lastError: target.last_error,
      consecutiveErrors: target.consecutive_errors,
      nextRunAt: target.next_run_at,
      mentions24h: countByTarget.get(target.id) ?? 0,
      lastMentionAt,
      expectedQuietDays: target.expected_quiet_days,
      silent: target.enabled && silence !== null,
      team: target.team,
      skippedRuns: target.skipped_runs,
      lastSkippedAt: target.last_skipped_at,
      lastRun: run
        ? {
            status: run.status,
            startedAt: run.started_at,
            finishedAt: run.finished_at,
            fetched: run.fetched,
            new: run.new,
            updated: run.updated,
            duplicates: run.duplicates,
            tickets: run.tickets,
            error: run.error,
          }
        : null,
    };
  });
}
