import { sql } from 'kysely';
import { inTransaction, type Db } from './connect.ts';
import type { Target, TargetState } from './schema.ts';

export interface TargetInput {
  id: string;
  source: string;
  /** The target's brands in config order; the first owns what it keeps without a match. */
  brandIds: readonly number[];
  params: Record<string, unknown>;
  schedule: string;
  enabled: boolean;
  /** Owning team of the target's tickets; null or absent: routing.defaultTeam. */
  team?: string | null;
  /** Days without a new mention before the target counts as silent; absent: 14. */
  expectedQuietDays?: number;
}

/** Creates or updates a target from config, keeping its health history. */
export async function upsertTarget(db: Db, target: TargetInput, now: Date): Promise<void> {
  const [owner] = target.brandIds;
  if (owner === undefined) throw new Error(`target ${target.id}: no brand`);
  const values = {
    source: target.source,
    brand_id: owner,
    params: JSON.stringify(target.params),
    schedule: target.schedule,
    enabled: target.enabled,
    team: target.team ?? null,
    ...(target.expectedQuietDays === undefined ? {} : { expected_quiet_days: target.expectedQuietDays }),
    updated_at: now,
  };
  await inTransaction(db, async (trx) => {
    await trx
      .insertInto('targets')
      .values({ id: target.id, ...values, state: target.enabled ? 'ok' : 'disabled', consecutive_errors: 0 })
      .onConflict((oc) =>
        oc.column('id').doUpdateSet({
          ...values,
          // Enabling a disabled target starts it fresh; disabling shows as such in the health view.
          state: target.enabled
            ? sql<TargetState>`CASE WHEN targets.state = 'disabled' THEN 'ok' ELSE targets.state END`
            : 'disabled',
        }),
      )
      .execute();
    await trx.deleteFrom('target_brands').where('target_id', '=', target.id).execute();
    await trx
      .insertInto('target_brands')
      .values(target.brandIds.map((brandId, position) => ({ target_id: target.id, brand_id: brandId, position })))
      .execute();
  });
}

/** Targets that are in the store but no longer in config stay visible, disabled. */
export async function disableTargetsExcept(db: Db, keepIds: readonly string[], now: Date): Promise<void> {
  let query = db.updateTable('targets').set({ enabled: false, state: 'disabled', updated_at: now }).where('enabled', '=', true);
  if (keepIds.length > 0) query = query.where('id', 'not in', keepIds);
  await query.execute();
}

export async function findTarget(db: Db, id: string): Promise<Target | undefined> {
  return db.selectFrom('targets').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * A completed crawl: the target is healthy again, and its watermark moves up to the newest item the crawl
 * fetched (never down: a crawl that saw only older items leaves it).
 */
export async function recordTargetSuccess(db: Db, id: string, at: Date, newestFetched: Date | null = null): Promise<void> {
  await db
    .updateTable('targets')
    .set((eb) => ({
      state: 'ok',
      last_run_at: at,
      last_success_at: at,
      consecutive_errors: 0,
      updated_at: at,
      ...(newestFetched
        ? { watermark_at: sql<Date>`greatest(${eb.ref('watermark_at')}, ${newestFetched}::timestamptz)` }
        : {}),
    }))
    .where('id', '=', id)
    .execute();
}

/**
 * When the target's newest stored mention was published (or first seen, when the source gives no date): kept on
 * the target by insertMentions.
 */
export async function latestMentionAt(db: Db, targetId: string): Promise<Date | null> {
  const row = await db.selectFrom('targets').select('latest_mention_at').where('id', '=', targetId).executeTakeFirst();
  return row?.latest_mention_at ?? null;
}

export async function recordTargetFailure(
  db: Db,
  id: string,
  failure: { state: TargetState | null; error: string; countsAsError: boolean },
  at: Date,
): Promise<Target | undefined> {
  return db
    .updateTable('targets')
    .set((eb) => ({
      ...(failure.state ? { state: failure.state } : {}),
      last_run_at: at,
      last_error_at: at,
      last_error: failure.error,
      consecutive_errors: failure.countsAsError ? eb('consecutive_errors', '+', 1) : eb.ref('consecutive_errors'),
      updated_at: at,
    }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}

export async function setTargetNextRun(db: Db, id: string, at: Date | null): Promise<void> {
  await db.updateTable('targets').set({ next_run_at: at }).where('id', '=', id).execute();
}

/**
 * Claims one cron fire of an enabled target for the scheduler that calls first: any other scheduler's copy of
 * the same fire finds it taken. Moves the target's next run on. False: taken, or the target is not to be
 * crawled (disabled in config, or waiting for credentials).
 */
export async function claimCronFire(db: Db, id: string, firedAt: Date, nextRunAt: Date | null): Promise<boolean> {
  const row = await db
    .updateTable('targets')
    .set({ last_fired_at: firedAt, next_run_at: nextRunAt })
    .where('id', '=', id)
    .where('enabled', '=', true)
    .where('state', '!=', 'disabled')
    .where((eb) => eb.or([eb('last_fired_at', 'is', null), eb('last_fired_at', '<', firedAt)]))
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

/** A cron fire found the target still queued or running: counted, so a schedule that is not kept shows. */
export async function recordSkippedRun(db: Db, id: string, at: Date): Promise<void> {
  await db
    .updateTable('targets')
    .set((eb) => ({ skipped_runs: eb('skipped_runs', '+', 1), last_skipped_at: at }))
    .where('id', '=', id)
    .execute();
}

/** Whether a worker may crawl the target now: enabled in config and not waiting for credentials. */
export async function isTargetCrawlable(db: Db, id: string): Promise<boolean> {
  const row = await db.selectFrom('targets').select(['enabled', 'state']).where('id', '=', id).executeTakeFirst();
  return row !== undefined && row.enabled && row.state !== 'disabled';
}

/** Of the given targets, those that have never run or whose latest crawl was interrupted. */
export async function targetsToCrawlAtStart(db: Db, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom('targets as t')
    .select('t.id')
    .where('t.id', 'in', ids)
    .where((eb) =>
      eb.or([
        eb('t.last_run_at', 'is', null),
        eb(
          (eb) => eb.selectFrom('crawl_runs as r').select('r.status').whereRef('r.target_id', '=', 't.id').orderBy('r.id', 'desc').limit(1),
          '=',
          'interrupted',
        ),
      ]),
    )
    .orderBy('t.id')
    .execute();
  return rows.map((r) => r.id);
}

/** Every stored target's state, by id. */
export async function targetStates(db: Db): Promise<Map<string, TargetState>> {
  const rows = await db.selectFrom('targets').select(['id', 'state']).execute();
  return new Map(rows.map((t) => [t.id, t.state]));
}
