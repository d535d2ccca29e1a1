import { sql } from 'kysely';
import type { Db } from './connect.ts';
import type { Target, TargetState } from './schema.ts';

export interface TargetInput {
  id: string;
  source: string;
  brandId: number;
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
  const values = {
    source: target.source,
    brand_id: target.brandId,
    params: JSON.stringify(target.params),
    schedule: target.schedule,
    enabled: target.enabled,
    team: target.team ?? null,
    ...(target.expectedQuietDays === undefined ? {} : { expected_quiet_days: target.expectedQuietDays }),
    updated_at: now,
  };
  await db
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

/** When the target's newest stored mention was published (or first seen, when the source gives no date). */
export async function latestMentionAt(db: Db, targetId: string): Promise<Date | null> {
  const row = await db
    .selectFrom('mentions')
    .select(sql<Date>`coalesce(published_at, first_seen_at)`.as('at'))
    .where('target_id', '=', targetId)
    .orderBy(sql`coalesce(published_at, first_seen_at)`, 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? new Date(row.at) : null;
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
