import { inTransaction, type Db } from '../store/connect.ts';
import type { TargetState } from '../store/schema.ts';
import { enqueueAlerts } from '../store/outbox.ts';
import { silenceOf } from '../store/target-health.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

/** The target as an alert describes it. */
export interface AlertTarget {
  id: string;
  source: string;
  brand: { id: number; name: string };
  state: TargetState;
  lastSuccessAt: Date | null;
  lastError: string | null;
  consecutiveErrors: number;
}

export interface TargetAlertDeps {
  db: Db;
  channels: readonly { id: string; events: readonly string[] }[];
  now: Date;
}

// Transient failures alert only once they repeat: one timeout is noise, three in a row is a broken source.
const FAILURES_BEFORE_ALERT = 3;

/**
 * A failed crawl left the target in `target.state`: alert the subscribed channels once per failure episode
 * (per state, until the next success), when the target is blocked, needs action or is disabled, or when
 * transient errors keep coming. Returns the number of messages queued.
 */
export async function alertFailingTarget(deps: TargetAlertDeps, target: AlertTarget): Promise<number> {
  const hard = target.state === 'blocked' || target.state === 'needs_action' || target.state === 'disabled';
  if (!hard && target.consecutiveErrors < FAILURES_BEFORE_ALERT) return 0;
  const since = target.lastSuccessAt ? `since its last success at ${target.lastSuccessAt.toISOString()}` : 'and has never succeeded';
  const summary =
    `${target.source} target "${target.id}" (${target.brand.name}) is ${target.state}: ` +
    `${target.consecutiveErrors} failed crawl(s) in a row ${since}. Last error: ${target.lastError ?? 'none'}`;
  const episode = `${target.state}_${target.lastSuccessAt?.getTime() ?? 'never'}`;
  return raiseTargetAlert(deps, target, { event: 'target.failing', episode, summary, details: {} });
}

/**
 * After a successful crawl: when the target's newest mention (or, with none, the target itself) is older than
 * its quiet period, alert once for that silence. An empty result never hides a broken source.
 */
export async function alertSilentTarget(
  deps: TargetAlertDeps,
  target: AlertTarget & { createdAt: Date; expectedQuietDays: number; latestMentionAt: Date | null },
): Promise<number> {
  const quietMs = silenceOf(target, deps.now);
  if (quietMs === null) return 0;
  const days = Math.floor(quietMs / DAY_MS);
  const last = target.latestMentionAt ? `its latest mention is from ${target.latestMentionAt.toISOString()}` : 'it has no mention yet';
  const summary =
    `No new mention from ${target.source} target "${target.id}" (${target.brand.name}) for ${days} days ` +
    `(expected within ${target.expectedQuietDays}); crawls succeed, ${last}. Check the target's id or query.`;
  return raiseTargetAlert(deps, target, {
    event: 'target.silent',
    // One silence is one episode: it runs from the same newest mention (or the target's creation).
    episode: String((target.latestMentionAt ?? target.createdAt).getTime()),
    summary,
    details: { latest_mention_at: target.latestMentionAt?.toISOString() ?? null, expected_quiet_days: target.expectedQuietDays },
  });
}

async function raiseTargetAlert(
  deps: TargetAlertDeps,
  target: AlertTarget,
  alert: { event: 'target.silent' | 'target.failing'; episode: string; summary: string; details: Record<string, unknown> },
): Promise<number> {
  const channels = deps.channels.filter((c) => c.events.includes(alert.event));
  if (channels.length === 0) return 0;
  const kind = alert.event.replace('.', '_');
  const payload = {
    type: alert.event,
    timestamp: deps.now.toISOString(),
    data: {
      target: {
        id: target.id,
        source: target.source,
        brand: target.brand.name,
        state: target.state,
        last_success_at: target.lastSuccessAt?.toISOString() ?? null,
        last_error: target.lastError,
        consecutive_errors: target.consecutiveErrors,
        ...alert.details,
      },
      alert: { kind, summary: alert.summary },
    },
  };
  // The message id names the episode: raising the same alert again is a no-op in the outbox.
  const alerts = channels.map((c) => ({
    kind,
    brandId: target.brand.id,
    targetId: target.id,
    message: {
      messageId: `msg_${kind}_${target.id}_${alert.episode}_channel_${c.id}`,
      destinationKind: 'channel' as const,
      destinationId: c.id,
      eventType: alert.event,
      ticketId: null,
      payload,
    },
  }));
  return inTransaction(deps.db, (trx) => enqueueAlerts(trx, alerts, deps.now));
}
