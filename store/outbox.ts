import type { Db } from './connect.ts';
import type { OutboxRow, OutboxStatus } from './schema.ts';

/** A message to deliver, written in the caller's transaction; `messageId` is unique and makes a repeat a no-op. */
export interface OutboxMessage {
  messageId: string;
  destinationKind: OutboxRow['destination_kind'];
  destinationId: string;
  eventType: string;
  ticketId: string | null;
  payload: Record<string, unknown>;
  /** `incident:<id>`; default `ticket:<ticketId>` for a ticket's rows, none otherwise. */
  subject?: string | null;
  /** Not sent before this (a channel's group wait or quiet hours); default: at once. */
  notBefore?: Date | null;
}

/** The subject of a message: what its channel keeps one card for, and what orders the rows of a destination. */
export function subjectOf(m: Pick<OutboxMessage, 'subject' | 'ticketId'>): string | null {
  return m.subject ?? (m.ticketId === null ? null : `ticket:${m.ticketId}`);
}

/**
 * Queues messages in one statement. Returns the outbox id of each message it added, by message id; a message
 * whose id is already queued is skipped and absent from the result.
 */
export async function enqueueOutbox(trx: Db, messages: readonly OutboxMessage[], now: Date): Promise<Map<string, string>> {
  if (messages.length === 0) return new Map();
  const rows = await trx
    .insertInto('outbox')
    .values(
      messages.map((m) => ({
        message_id: m.messageId,
        destination_kind: m.destinationKind,
        destination_id: m.destinationId,
        event_type: m.eventType,
        ticket_id: m.ticketId,
        subject: subjectOf(m),
        payload: JSON.stringify(m.payload),
        status: 'pending' as const,
        attempts: 0,
        next_attempt_at: m.notBefore && m.notBefore > now ? m.notBefore : now,
        created_at: now,
      })),
    )
    .onConflict((oc) => oc.column('message_id').doNothing())
    .returning(['id', 'message_id'])
    .execute();
  return new Map(rows.map((r) => [r.message_id, r.id]));
}

/** An alert: the message that tells a channel, and what the alert row records of it. */
export interface ChannelAlert {
  kind: string;
  message: OutboxMessage & { destinationKind: 'channel' };
  /** Null when the alert concerns no brand (a failing destination). */
  brandId: number | null;
  targetId?: string | null;
  incidentId?: string | null;
  /** Held for the channel's quiet hours until then (its digest counts them); null: not held. */
  heldUntil?: Date | null;
}

/**
 * Queues alert messages with their alert rows, in the caller's transaction. A message already queued (the same
 * episode raised again) is skipped with its row. Returns how many were queued.
 */
export async function enqueueAlerts(trx: Db, alerts: readonly ChannelAlert[], now: Date): Promise<number> {
  const queued = await enqueueOutbox(trx, alerts.map((a) => a.message), now);
  const rows = alerts.filter((a) => queued.has(a.message.messageId));
  if (rows.length === 0) return 0;
  await trx
    .insertInto('alerts')
    .values(
      rows.map((a) => ({
        kind: a.kind,
        channel_id: a.message.destinationId,
        ticket_id: a.message.ticketId,
        target_id: a.targetId ?? null,
        brand_id: a.brandId,
        incident_id: a.incidentId ?? null,
        held_until: a.heldUntil ?? null,
        outbox_id: queued.get(a.message.messageId)!,
        created_at: now,
      })),
    )
    .execute();
  return rows.length;
}

/**
 * Claims up to `limit` due rows, pending or parked, with a lease (their next attempt moves to `leaseUntil`)
 * rather than a lock held over HTTP, so a crashed worker's rows come back by themselves. The rows of one subject
 * (a ticket, an incident) for one destination go out one at a time and in order: an update never overtakes the
 * create it amends, and an edit of a channel's card never the message that made it.
 */
export async function claimDueOutbox(db: Db, now: Date, leaseUntil: Date, limit: number): Promise<OutboxRow[]> {
  const rows = await db
    .updateTable('outbox')
    .set((eb) => ({ next_attempt_at: leaseUntil, claims: eb('claims', '+', 1) }))
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('outbox as o')
        .select('o.id')
        .where('o.status', 'in', ['pending', 'parked'])
        .where('o.next_attempt_at', '<=', now)
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('outbox as earlier')
                .select('earlier.id')
                .whereRef('earlier.subject', '=', 'o.subject')
                .whereRef('earlier.destination_kind', '=', 'o.destination_kind')
                .whereRef('earlier.destination_id', '=', 'o.destination_id')
                .whereRef('earlier.id', '<', 'o.id')
                .where('earlier.status', 'in', ['pending', 'parked']),
            ),
          ),
        )
        .orderBy('o.next_attempt_at')
        .orderBy('o.id')
        .limit(limit)
        .forUpdate()
        .skipLocked(),
    )
    .returningAll()
    .execute();
  // RETURNING keeps no order: oldest first, as they were chosen.
  return rows.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
}

/** A claimed row not tried after all (its destination's rate limit): due again at `at`, the claim undone. */
export async function releaseOutboxRow(db: Db, id: string, at: Date): Promise<void> {
  await db.updateTable('outbox').set((eb) => ({ next_attempt_at: at, claims: eb('claims', '-', 1) })).where('id', '=', id).execute();
}

/** The outcome of one delivery attempt: delivered, pending again or parked from `nextAttemptAt`, or dead. */
export async function recordOutboxAttempt(
  db: Db,
  id: string,
  attempt: { status: OutboxStatus; attempts: number; at: Date; httpStatus: number | null; error: string | null; nextAttemptAt?: Date },
): Promise<void> {
  await db
    .updateTable('outbox')
    .set({
      status: attempt.status,
      attempts: attempt.attempts,
      last_attempt_at: attempt.at,
      last_status: attempt.httpStatus,
      last_error: attempt.error,
      ...(attempt.status === 'delivered' ? { delivered_at: attempt.at } : {}),
      ...(attempt.nextAttemptAt ? { next_attempt_at: attempt.nextAttemptAt } : {}),
    })
    .where('id', '=', id)
    .execute();
}

export interface DeliveryListFilter {
  status?: OutboxStatus | undefined;
  destinationKind?: OutboxRow['destination_kind'] | undefined;
  destinationId?: string | undefined;
  eventType?: string | undefined;
  ticketId?: string | undefined;
  /** Keyset cursor: only outbox rows with an id below this one. */
  beforeId?: string | undefined;
  limit: number;
}

export interface Delivery {
  id: string;
  messageId: string;
  destinationKind: 'helpdesk' | 'channel';
  destinationId: string;
  eventType: string;
  ticketId: string | null;
  status: OutboxStatus;
  attempts: number;
  nextAttemptAt: Date;
  lastAttemptAt: Date | null;
  lastStatus: number | null;
  lastError: string | null;
  deliveredAt: Date | null;
  createdAt: Date;
}

/** Outbox rows, newest first by id; the way a dead delivery becomes visible to users. */
export async function listDeliveries(db: Db, filter: DeliveryListFilter): Promise<{ deliveries: Delivery[]; hasMore: boolean }> {
  let query = db
    .selectFrom('outbox')
    .select(DELIVERY_COLUMNS)
    .orderBy('id', 'desc')
    .limit(filter.limit + 1);
  if (filter.status !== undefined) query = query.where('status', '=', filter.status);
  if (filter.destinationKind !== undefined) query = query.where('destination_kind', '=', filter.destinationKind);
  if (filter.destinationId !== undefined) query = query.where('destination_id', '=', filter.destinationId);
  if (filter.eventType !== undefined) query = query.where('event_type', '=', filter.eventType);
  if (filter.ticketId !== undefined) query = query.where('ticket_id', '=', filter.ticketId);
  if (filter.beforeId !== undefined) query = query.where('id', '<', filter.beforeId);
  const rows = await query.execute();
  return {
    hasMore: rows.length > filter.limit,
    deliveries: rows.slice(0, filter.limit).map(deliveryOf),
  };
}

/** A row not sent on purpose, with why: a delivered-like end state that the deliveries list shows. */
export async function suppressOutboxRow(db: Db, id: string, reason: string, at: Date): Promise<void> {
  await db
    .updateTable('outbox')
    .set({ status: 'suppressed', last_error: reason, last_attempt_at: at })
    .where('id', '=', id)
    .execute();
}

/** When each channel was last sent something about `subject` (its latest row), for group intervals and repeats. */
export async function lastQueuedAbout(db: Db, subject: string, opts: { except?: readonly string[] } = {}): Promise<Map<string, Date>> {
  let query = db
    .selectFrom('outbox')
    .select(['destination_id', (eb) => eb.fn.max('created_at').as('at')])
    .where('subject', '=', subject)
    .where('destination_kind', '=', 'channel');
  if (opts.except?.length) query = query.where('event_type', 'not in', opts.except);
  const rows = await query.groupBy('destination_id').execute();
  return new Map(rows.map((r) => [r.destination_id, new Date(r.at as unknown as string | Date)]));
}

/** A row whose destination is not in the config: kept as it is, with why, until `recheckAt`. */
export async function parkOutboxRow(db: Db, id: string, reason: string, recheckAt: Date): Promise<void> {
  await db
    .updateTable('outbox')
    .set((eb) => ({ status: 'parked', last_error: reason, next_attempt_at: recheckAt, claims: eb('claims', '-', 1) }))
    .where('id', '=', id)
    .execute();
}

const DELIVERY_COLUMNS = [
  'id', 'message_id', 'destination_kind', 'destination_id', 'event_type', 'ticket_id', 'status', 'attempts',
  'next_attempt_at', 'last_attempt_at', 'last_status', 'last_error', 'delivered_at', 'created_at',
] as const;

function deliveryOf(row: Pick<OutboxRow, (typeof DELIVERY_COLUMNS)[number]>): Delivery {
  return {
    id: row.id,
    messageId: row.message_id,
    destinationKind: row.destination_kind,
    destinationId: row.destination_id,
    eventType: row.event_type,
    ticketId: row.ticket_id,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    lastAttemptAt: row.last_attempt_at,
    lastStatus: row.last_status,
    lastError: row.last_error,
    deliveredAt: row.delivered_at,
    createdAt: row.created_at,
  };
}

export type ReplayResult = { replayed: Delivery } | { missing: true } | { queued: Delivery };

/**
 * Sends a delivery again from its first attempt: a dead one after the destination was fixed, a parked one now,
 * a delivered one that the destination lost. A row still pending is already on its way and is left alone.
 */
export async function replayDelivery(db: Db, id: string, now: Date): Promise<ReplayResult> {
  const row = await db
    .updateTable('outbox')
    .set((eb) => ({ status: 'pending', attempts: 0, next_attempt_at: now, delivered_at: null, claims: eb('claims', '-', eb.ref('attempts')) }))
    .where('id', '=', id)
    .where('status', '<>', 'pending')
    .returning(DELIVERY_COLUMNS)
    .executeTakeFirst();
  if (row) return { replayed: deliveryOf(row) };
  const pending = await db.selectFrom('outbox').select(DELIVERY_COLUMNS).where('id', '=', id).executeTakeFirst();
  return pending ? { queued: deliveryOf(pending) } : { missing: true };
}

/**
 * Takes back deliveries a dead process had claimed, without waiting for their lease: for a process that is
 * the only one alive (the data directory lock on PGlite). They go out as uncertain, so a helpdesk without an
 * idempotency key looks for the ticket first.
 */
export async function releaseClaimedOutbox(db: Db, now: Date): Promise<number> {
  const rows = await db
    .updateTable('outbox')
    .set({ next_attempt_at: now })
    .where('status', '=', 'pending')
    .where('next_attempt_at', '>', now)
    .where((eb) => eb('claims', '>', eb.ref('attempts')))
    .returning('id')
    .execute();
  return rows.length;
}
