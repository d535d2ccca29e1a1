import { sql } from 'kysely';
import { backoffWithJitterMs } from '../crawlers/http.ts';
import type { Logger } from '../log/logger.ts';
import type { Db } from '../store/connect.ts';
import type { OutboxRow } from '../store/schema.ts';
import { sendWebhook, type DeliveryOutcome, type WebhookDestination } from './connectors/webhook.ts';

/** A message to deliver, written in the caller's transaction; `messageId` is unique and makes a repeat a no-op. */
export interface OutboxMessage {
  messageId: string;
  destinationKind: OutboxRow['destination_kind'];
  destinationId: string;
  eventType: string;
  ticketId: string | null;
  payload: Record<string, unknown>;
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
        payload: JSON.stringify(m.payload),
        status: 'pending' as const,
        attempts: 0,
        next_attempt_at: now,
        created_at: now,
      })),
    )
    .onConflict((oc) => oc.column('message_id').doNothing())
    .returning(['id', 'message_id'])
    .execute();
  return new Map(rows.map((r) => [r.message_id, r.id]));
}

export interface DeliveryPolicy {
  maxAttempts: number;
  initialDelaySeconds: number;
  maxDelaySeconds: number;
  timeoutSeconds: number;
}

export interface DeliveryDeps {
  db: Db;
  now: () => Date;
  policy: DeliveryPolicy;
  /** Resolves an outbox row's destination from config; undefined when it is no longer configured. */
  destinationOf(kind: OutboxRow['destination_kind'], id: string): WebhookDestination | undefined;
  log: Logger;
  random?: () => number;
  send?: typeof sendWebhook;
}

export interface DeliveryReport {
  delivered: number;
  retrying: number;
  dead: number;
}

/**
 * Delivers the outbox rows that are due. Rows are claimed with a lease (their next attempt moves past the
 * timeout) rather than a lock held over HTTP, so a crashed worker's rows come back by themselves.
 */
export async function deliverDueOutbox(deps: DeliveryDeps, opts: { limit?: number } = {}): Promise<DeliveryReport> {
  const now = deps.now();
  const leaseUntil = new Date(now.getTime() + (deps.policy.timeoutSeconds + 30) * 1000);
  const claimed = await deps.db
    .updateTable('outbox')
    .set({ next_attempt_at: leaseUntil })
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('outbox')
        .select('id')
        .where('status', '=', 'pending')
        .where('next_attempt_at', '<=', now)
        .orderBy('next_attempt_at')
        .orderBy('id')
        .limit(opts.limit ?? 20)
        .forUpdate()
        .skipLocked(),
    )
    .returningAll()
    .execute();

  const report: DeliveryReport = { delivered: 0, retrying: 0, dead: 0 };
  const send = deps.send ?? sendWebhook;
  for (const row of claimed) {
    const destination = deps.destinationOf(row.destination_kind, row.destination_id);
    const outcome: DeliveryOutcome = destination
      ? await send(destination, { id: row.message_id, body: JSON.stringify(row.payload) }, {
          now: deps.now(),
          timeoutMs: deps.policy.timeoutSeconds * 1000,
        })
      : {
          ok: false,
          status: null,
          error: `${row.destination_kind} "${row.destination_id}" is no longer configured`,
          retryAfterMs: null,
          gone: true,
        };
    const attempts = row.attempts + 1;
    const at = deps.now();
    if (outcome.ok) {
      report.delivered++;
      await deps.db
        .updateTable('outbox')
        .set({ status: 'delivered', attempts, last_attempt_at: at, last_status: outcome.status, last_error: null, delivered_at: at })
        .where('id', '=', row.id)
        .execute();
      continue;
    }
    const dead = outcome.gone || attempts >= deps.policy.maxAttempts;
    const next = dead ? at : new Date(at.getTime() + retryDelayMs(attempts, deps.policy, outcome.retryAfterMs, deps.random));
    await deps.db
      .updateTable('outbox')
      .set({
        status: dead ? 'dead' : 'pending',
        attempts,
        last_attempt_at: at,
        last_status: outcome.status,
        last_error: outcome.error,
        next_attempt_at: next,
      })
      .where('id', '=', row.id)
      .execute();
    const fields = { outboxId: row.id, destination: `${row.destination_kind}:${row.destination_id}`, event: row.event_type, attempts, status: outcome.status, error: outcome.error };
    if (dead) {
      report.dead++;
      deps.log.error(fields, 'delivery is dead: no further attempts (see GET /api/v1/deliveries?status=dead)');
    } else {
      report.retrying++;
      deps.log.warn({ ...fields, nextAttemptAt: next.toISOString() }, 'delivery failed, will retry');
    }
  }
  return report;
}

/** The shared backoff with jitter, counted from the first failed attempt, never sooner than Retry-After. */
export function retryDelayMs(
  attempts: number,
  policy: DeliveryPolicy,
  retryAfterMs: number | null,
  random: () => number = Math.random,
): number {
  const delay = backoffWithJitterMs(attempts - 1, policy.initialDelaySeconds * 1000, policy.maxDelaySeconds * 1000, random);
  return Math.max(delay, retryAfterMs ?? 0);
}

/** The earliest next attempt among pending rows, so a worker knows when to look again. */
export async function nextOutboxAttempt(db: Db): Promise<Date | null> {
  const row = await db
    .selectFrom('outbox')
    .select(sql<Date | null>`min(next_attempt_at)`.as('next'))
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return row?.next ? new Date(row.next) : null;
}
