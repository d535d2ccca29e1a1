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
}

/** Creates or updates a target from config, keeping its health history. */
export async function upsertTarget(db: Db, target: TargetInput, now: Date): Promise<void> {
  const values = {
    source: target.source,
    brand_id: target.brandId,
    params: JSON.stringify(target.params),
    schedule: target.schedule,
    enabled: target.enabled,
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

export async function recordTargetSuccess(db: Db, id: string, at: Date): Promise<void> {
  await db
    .updateTable('targets')
    .set({ state: 'ok', last_run_at: at, last_success_at: at, consecutive_errors: 0, updated_at: at })
    .where('id', '=', id)
    .execute();
}

export async function recordTargetFailure(
  db: Db,
  id: string,
  failure: { state: TargetState | null; error: string; countsAsError: boolean },
  at: Date,
): Promise<void> {
  await db
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
    .execute();
}

export async function setTargetNextRun(db: Db, id: string, at: Date | null): Promise<void> {
  await db.updateTable('targets').set({ next_run_at: at }).where('id', '=', id).execute();
}
