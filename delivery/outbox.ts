import { backoffWithJitterMs } from '../lib/backoff.ts';
import type { Logger } from '../log/logger.ts';
import type { Db } from '../store/connect.ts';
import { claimDueOutbox, parkOutboxRow, recordOutboxAttempt } from '../store/outbox.ts';
import type { OutboxRow } from '../store/schema.ts';
import { sendWebhook, type DeliveryOutcome, type WebhookDestination } from './connectors/webhook.ts';

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
  /** Rows whose destination is not in the config. */
  parked: number;
}

// How often a parked row is looked at again: once its destination is back in the config, it goes out.
const PARKED_RECHECK_MS = 60_000;

/**
 * Delivers the outbox rows that are due. Rows are claimed with a lease (their next attempt moves past the
 * timeout) rather than a lock held over HTTP, so a crashed worker's rows come back by themselves.
 */
export async function deliverDueOutbox(deps: DeliveryDeps, opts: { limit?: number } = {}): Promise<DeliveryReport> {
  const now = deps.now();
  const leaseUntil = new Date(now.getTime() + (deps.policy.timeoutSeconds + 30) * 1000);
  const claimed = await claimDueOutbox(deps.db, now, leaseUntil, opts.limit ?? 20);

  const report: DeliveryReport = { delivered: 0, retrying: 0, dead: 0, parked: 0 };
  const send = deps.send ?? sendWebhook;
  for (const row of claimed) {
    const destination = deps.destinationOf(row.destination_kind, row.destination_id);
    if (destination === undefined) {
      // Renamed or removed in the config, perhaps for a moment: kept, not an attempt, looked at again later.
      const next = new Date(deps.now().getTime() + PARKED_RECHECK_MS);
      await parkOutboxRow(deps.db, row.id, `${row.destination_kind} "${row.destination_id}" is not in the config: parked until it is back`, next);
      report.parked++;
      if (row.status !== 'parked') {
        deps.log.warn({ outboxId: row.id, destination: `${row.destination_kind}:${row.destination_id}`, event: row.event_type }, 'delivery parked: its destination is not in the config (see GET /api/v1/deliveries?status=parked)');
      }
      continue;
    }
    const outcome: DeliveryOutcome = await send(destination, { id: row.message_id, body: JSON.stringify(row.payload) }, {
      now: deps.now(),
      timeoutMs: deps.policy.timeoutSeconds * 1000,
    });
    const attempts = row.attempts + 1;
    const at = deps.now();
    if (outcome.ok) {
      report.delivered++;
      await recordOutboxAttempt(deps.db, row.id, { status: 'delivered', attempts, at, httpStatus: outcome.status, error: null });
      continue;
    }
    const dead = outcome.gone || attempts >= deps.policy.maxAttempts;
    const next = dead ? at : new Date(at.getTime() + retryDelayMs(attempts, deps.policy, outcome.retryAfterMs, deps.random));
    await recordOutboxAttempt(deps.db, row.id, {
      status: dead ? 'dead' : 'pending', attempts, at, httpStatus: outcome.status, error: outcome.error, nextAttemptAt: next,
    });
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

/**
 * The shared backoff with jitter, counted from the first failed attempt; never sooner than the destination's
 * Retry-After, and never later than `maxDelaySeconds` whatever it asks.
 */
export function retryDelayMs(
  attempts: number,
  policy: DeliveryPolicy,
  retryAfterMs: number | null,
  random: () => number = Math.random,
): number {
  const delay = backoffWithJitterMs(attempts - 1, policy.initialDelaySeconds * 1000, policy.maxDelaySeconds * 1000, random);
  return Math.min(Math.max(delay, retryAfterMs ?? 0), policy.maxDelaySeconds * 1000);
}
