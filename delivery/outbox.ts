import { backoffWithJitterMs } from '../lib/backoff.ts';
import type { Logger } from '../log/logger.ts';
import type { Db } from '../store/connect.ts';
import { claimDueOutbox, recordOutboxAttempt } from '../store/outbox.ts';
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
}

/**
 * Delivers the outbox rows that are due. Rows are claimed with a lease (their next attempt moves past the
 * timeout) rather than a lock held over HTTP, so a crashed worker's rows come back by themselves.
 */
export async function deliverDueOutbox(deps: DeliveryDeps, opts: { limit?: number } = {}): Promise<DeliveryReport> {
  const now = deps.now();
  const leaseUntil = new Date(now.getTime() + (deps.policy.timeoutSeconds + 30) * 1000);
  const claimed = await claimDueOutbox(deps.db, now, leaseUntil, opts.limit ?? 20);

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
