import { inTransaction, type Db } from './connect.ts';
import type { OutboxRow } from './schema.ts';

export type DestinationKind = OutboxRow['destination_kind'];

// One timeout is noise; three failed attempts in a row are a broken destination.
export const FAILURES_BEFORE_FAILING = 3;

/** One delivery attempt to a destination, as the delivery loop recorded it on its outbox row. */
export interface DestinationAttempt {
  kind: DestinationKind;
  id: string;
  ok: boolean;
  /** The row gave up with this attempt: when the destination refused us as a whole, it is failing at once. */
  dead: boolean;
  at: Date;
  status: number | null;
  error: string | null;
}

/** A failing episode as it starts: what its alert says. */
export interface DestinationEpisode {
  kind: DestinationKind;
  id: string;
  failingSince: Date;
  consecutiveFailures: number;
  lastStatus: number | null;
  lastError: string | null;
}

export interface DestinationAttemptResult {
  /** The attempt started a failing episode; null when the destination was failing already, or is not. */
  started: DestinationEpisode | null;
  /** The attempt, a success, ended a failing episode that began at `failingSince`. */
  recovered: { failingSince: Date; consecutiveFailures: number } | null;
}

interface HealthState {
  consecutiveFailures: number;
  failingSince: Date | null;
  lastSuccessAt: Date | null;
  lastFailureAt: Date | null;
  lastError: string | null;
  lastStatus: number | null;
}

/**
 * A row that went dead because the destination refuses us as a whole (401, 403, or 410: the endpoint is gone);
 * a 404 or 422 about one ticket says nothing of the others.
 */
const REFUSED_US = new Set([401, 403, 410]);

/** The rule: a success resets the count and ends an episode; a failure counts, and fails at the threshold or when refused. */
function applyAttempt(prev: HealthState, attempt: DestinationAttempt): HealthState {
  // last_status and last_error are the last attempt's, as on an outbox row.
  if (attempt.ok) {
    return { ...prev, consecutiveFailures: 0, failingSince: null, lastSuccessAt: attempt.at, lastStatus: attempt.status, lastError: null };
  }
  const failures = prev.consecutiveFailures + 1;
  const starts = failures >= FAILURES_BEFORE_FAILING || (attempt.dead && attempt.status !== null && REFUSED_US.has(attempt.status));
  return {
    ...prev,
    consecutiveFailures: failures,
    failingSince: prev.failingSince ?? (starts ? attempt.at : null),
    lastFailureAt: attempt.at,
    lastStatus: attempt.status,
    lastError: attempt.error,
  };
}

/**
 * Records one attempt in its destination's health, in the caller's transaction or one of its own. The row is
 * locked while it changes, so workers sending to one destination at once count every attempt and start an
 * episode once.
 */
export async function recordDestinationAttempt(db: Db, attempt: DestinationAttempt): Promise<DestinationAttemptResult> {
  return inTransaction(db, (trx) => applyAttemptTo(trx, attempt));
}

async function applyAttemptTo(db: Db, attempt: DestinationAttempt): Promise<DestinationAttemptResult> {
  const key = { destination_kind: attempt.kind, destination_id: attempt.id };
  await db.insertInto('destination_health').values(key).onConflict((oc) => oc.columns(['destination_kind', 'destination_id']).doNothing()).execute();
  const row = await db
    .selectFrom('destination_health')
    .selectAll()
    .where('destination_kind', '=', attempt.kind)
    .where('destination_id', '=', attempt.id)
    .forUpdate()
    .executeTakeFirstOrThrow();
  const prev: HealthState = {
    consecutiveFailures: row.consecutive_failures,
    failingSince: row.failing_since,
    lastSuccessAt: row.last_success_at,
    lastFailureAt: row.last_failure_at,
    lastError: row.last_error,
    lastStatus: row.last_status,
  };
  const next = applyAttempt(prev, attempt);
  await db
    .updateTable('destination_health')
    .set({
      consecutive_failures: next.consecutiveFailures,
      failing_since: next.failingSince,
      last_success_at: next.lastSuccessAt,
      last_failure_at: next.lastFailureAt,
      last_error: next.lastError,
      last_status: next.lastStatus,
    })
    .where('destination_kind', '=', attempt.kind)
    .where('destination_id', '=', attempt.id)
    .execute();
  return {
    started: prev.failingSince === null && next.failingSince !== null
      ? {
          kind: attempt.kind,
          id: attempt.id,
          failingSince: next.failingSince,
          consecutiveFailures: next.consecutiveFailures,
          lastStatus: next.lastStatus,
          lastError: next.lastError,
        }
      : null,
    recovered: prev.failingSince !== null && next.failingSince === null
      ? { failingSince: prev.failingSince, consecutiveFailures: prev.consecutiveFailures }
      : null,
  };
}

export type DestinationState = 'ok' | 'failing' | 'unused';

export interface DestinationHealth {
  kind: DestinationKind;
  id: string;
  /** failing: an episode is open; unused: no attempt recorded yet (its rows are waiting or parked). */
  state: DestinationState;
  consecutiveFailures: number;
  failingSince: Date | null;
  lastSuccessAt: Date | null;
  lastFailureAt: Date | null;
  lastStatus: number | null;
  lastError: string | null;
  /** Outbox rows waiting for their next attempt. */
  pending: number;
  /** Outbox rows waiting for the destination to be back in the config. */
  parked: number;
  /** Outbox rows that went dead in the 24 hours before `now`. */
  dead24h: number;
  oldestPendingAt: Date | null;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Every destination the store knows: those with a recorded attempt, and those the outbox names with rows
 * pending, parked or dead in the last 24 hours. Ordered by kind, then id.
 */
export async function listDestinationHealth(db: Db, now: Date): Promise<DestinationHealth[]> {
  const since = new Date(now.getTime() - DAY_MS);
  const [rows, counts] = await Promise.all([
    db.selectFrom('destination_health').selectAll().execute(),
    // Only open and recently dead rows are read (each set has a partial index), never the delivered history.
    db
      .selectFrom('outbox')
      .select((eb) => [
        'destination_kind',
        'destination_id',
        eb.fn.countAll<string>().filterWhere('status', '=', 'pending').as('pending'),
        eb.fn.countAll<string>().filterWhere('status', '=', 'parked').as('parked'),
        eb.fn.countAll<string>().filterWhere('status', '=', 'dead').as('dead'),
        eb.fn.min<Date | null>('created_at').filterWhere('status', '=', 'pending').as('oldest_pending_at'),
      ])
      .where((eb) =>
        eb.or([
          eb('status', 'in', ['pending', 'parked']),
          eb.and([eb('status', '=', 'dead'), eb('last_attempt_at', '>', since), eb('last_attempt_at', '<=', now)]),
        ]),
      )
      .groupBy(['destination_kind', 'destination_id'])
      .execute(),
  ]);
  const keyOf = (kind: string, id: string) => `${kind}\u0000${id}`;
  const healthOf = new Map(rows.map((r) => [keyOf(r.destination_kind, r.destination_id), r]));
  const countsOf = new Map(counts.map((c) => [keyOf(c.destination_kind, c.destination_id), c]));
  const byKey = new Map<string, DestinationHealth>();
  for (const [key, { destination_kind: kind, destination_id: id }] of [...healthOf, ...countsOf]) {
    if (byKey.has(key)) continue;
    const row = healthOf.get(key);
    const c = countsOf.get(key);
    const tried = row !== undefined && (row.last_success_at !== null || row.last_failure_at !== null);
    byKey.set(key, {
      kind,
      id,
      state: row?.failing_since ? 'failing' : tried ? 'ok' : 'unused',
      consecutiveFailures: row?.consecutive_failures ?? 0,
      failingSince: row?.failing_since ?? null,
      lastSuccessAt: row?.last_success_at ?? null,
      lastFailureAt: row?.last_failure_at ?? null,
      lastStatus: row?.last_status ?? null,
      lastError: row?.last_error ?? null,
      pending: Number(c?.pending ?? 0),
      parked: Number(c?.parked ?? 0),
      dead24h: Number(c?.dead ?? 0),
      oldestPendingAt: c?.oldest_pending_at ?? null,
    });
  }
  return [...byKey.values()].sort((a, b) => a.kind.localeCompare(b.kind) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
