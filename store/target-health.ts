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

/**
 * Every target with its brands, its newest mention, its mentions of the last 24 hours and its last run, at a
 * cost that grows with the targets, not with the mentions: the newest mention's time is kept on the target at
 * ingest, the day's mentions are a range of mentions_target_seen_idx per target, the last run one row per target.
 */
export function targetHealthQuery(db: Db, opts: { now: Date }) {
  const since = new Date(opts.now.getTime() - DAY_MS);
  return db
    .selectFrom('targets as t')
    .innerJoin('brands as b', 'b.id', 't.brand_id')
    .leftJoinLateral(
      (eb) => eb
        .selectFrom('crawl_runs as r')
        .select(['r.status', 'r.started_at', 'r.finished_at', 'r.fetched', 'r.new', 'r.updated', 'r.duplicates', 'r.tickets', 'r.error'])
        .whereRef('r.target_id', '=', 't.id')
        .orderBy('r.id', 'desc')
        .limit(1)
        .as('run'),
      (join) => join.onTrue(),
    )
    .select([
      't.id', 't.source', 'b.name as brand', 't.state', 't.enabled', 't.schedule', 't.last_run_at',
      't.last_success_at', 't.last_error_at', 't.last_error', 't.consecutive_errors', 't.next_run_at',
      't.team', 't.expected_quiet_days', 't.created_at', 't.skipped_runs', 't.last_skipped_at',
      sql<string[]>`array(SELECT b2.name FROM target_brands tb JOIN brands b2 ON b2.id = tb.brand_id WHERE tb.target_id = t.id ORDER BY tb.position)`.as('brands'),
      't.latest_mention_at',
      sql<string>`(SELECT count(*) FROM mentions m WHERE m.target_id = t.id AND m.first_seen_at > ${since} AND m.first_seen_at <= ${opts.now})`.as('mentions_24h'),
      'run.status as run_status', 'run.started_at as run_started_at', 'run.finished_at as run_finished_at',
      'run.fetched as run_fetched', 'run.new as run_new', 'run.updated as run_updated', 'run.duplicates as run_duplicates',
      'run.tickets as run_tickets', 'run.error as run_error',
    ])
    .orderBy('t.id');
}

export async function listTargetHealth(db: Db, opts: { now: Date }): Promise<TargetHealth[]> {
  const targets = await targetHealthQuery(db, opts).execute();
  return targets.map((target) => {
    const lastMentionAt = target.latest_mention_at;
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
      mentions24h: Number(target.mentions_24h),
      lastMentionAt,
      expectedQuietDays: target.expected_quiet_days,
      silent: target.enabled && silence !== null,
      team: target.team,
      skippedRuns: target.skipped_runs,
      lastSkippedAt: target.last_skipped_at,
      lastRun: target.run_status !== null && target.run_started_at !== null
        ? {
            status: target.run_status,
            startedAt: target.run_started_at,
            finishedAt: target.run_finished_at,
            fetched: target.run_fetched!,
            new: target.run_new!,
            updated: target.run_updated!,
            duplicates: target.run_duplicates!,
            tickets: target.run_tickets!,
            error: target.run_error,
          }
        : null,
    };
  });
}
