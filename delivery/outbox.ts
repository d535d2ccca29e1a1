import { loadIncidentEvent } from '../documents/incident.ts';
import { loadMentionDocuments } from '../documents/mention.ts';
import { loadTicketDocuments, type TicketChange, type TicketDocument, type TicketEvent } from '../documents/ticket.ts';
import { backoffWithJitterMs } from '../lib/backoff.ts';
import type { Logger } from '../log/logger.ts';
import { inTransaction, type Db } from '../store/connect.ts';
import { recordDestinationAttempt, type DestinationAttempt, type DestinationEpisode } from '../store/destination-health.ts';
import { findChannelCard, saveChannelCard } from '../store/channel-cards.ts';
import { liveIncidentsOfTickets } from '../store/incidents.ts';
import { claimDueOutbox, enqueueAlerts, parkOutboxRow, recordOutboxAttempt, releaseOutboxRow, suppressOutboxRow, type ChannelAlert } from '../store/outbox.ts';
import type { OutboxRow } from '../store/schema.ts';
import { findTicketLink, upsertTicketLink } from '../store/tickets.ts';
import type { Connector, DeliveryOutcome } from './connectors/types.ts';

export interface DeliveryPolicy {
  maxAttempts: number;
  initialDelaySeconds: number;
  maxDelaySeconds: number;
  timeoutSeconds: number;
}

/** A configured destination: its connector and its config entry. */
export interface Destination {
  // The config's type decides the connector, so the pair is consistent by construction.
  connector: Connector<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  config: { id: string; type: string };
}

export interface DeliveryDeps {
  db: Db;
  now: () => Date;
  policy: DeliveryPolicy;
  /** Resolves an outbox row's destination from config; undefined when it is no longer configured. */
  destinationOf(kind: OutboxRow['destination_kind'], id: string): Destination | undefined;
  log: Logger;
  random?: () => number;
  /** When each destination may be sent to next, for connectors with a rate limit; kept by the worker. */
  nextSlot?: Map<string, number>;
  /** Waits for a rate-limited destination's next free slot; default: a timer. */
  sleep?: (ms: number) => Promise<void>;
  /** The alert channels and the events they take, for `destination.failing`; absent: no channel hears of it. */
  channels?: readonly AlertChannel[];
  /**
   * Plans the alerts of a failing episode: `planDestinationAlerts` of alerts/destination-health.ts, handed in by
   * the composition root because delivery/ and alerts/ do not import each other. Absent: no alert is queued.
   */
  planDestinationAlerts?: (input: { episode: DestinationEpisode; channels: readonly AlertChannel[]; now: Date }) => ChannelAlert[];
  /** Where people reach earshot: messages link their subject there. Absent: no link. */
  publicUrl?: string | null;
}

export interface AlertChannel {
  id: string;
  events: readonly string[];
}

export interface DeliveryReport {
  delivered: number;
  retrying: number;
  dead: number;
  /** Rows whose destination is not in the config. */
  parked: number;
  /** Due rows held back by their destination's rate limit: due again at its next free slot. */
  deferred: number;
  /** Rows not sent on purpose: a ticket alert inside an open incident, a card refresh a channel cannot take. */
  suppressed: number;
}

// How often a parked row is looked at again: once its destination is back in the config, it goes out.
const PARKED_RECHECK_MS = 60_000;

/**
 * Delivers the outbox rows that are due. Rows are claimed with a lease (their next attempt moves past the
 * timeout) rather than a lock held over HTTP, so a crashed worker's rows come back by themselves. A ticket
 * event is rendered now, from the ticket as it is, by the destination's connector.
 */
export async function deliverDueOutbox(deps: DeliveryDeps, opts: { limit?: number } = {}): Promise<DeliveryReport> {
  const now = deps.now();
  const leaseUntil = new Date(now.getTime() + (deps.policy.timeoutSeconds + 30) * 1000);
  const claimed = await claimDueOutbox(deps.db, now, leaseUntil, opts.limit ?? 20);

  const report: DeliveryReport = { delivered: 0, retrying: 0, dead: 0, parked: 0, deferred: 0, suppressed: 0 };
  const tickets = await loadTicketsOf(deps.db, claimed);
  const incidents = await liveIncidentsOfTickets(deps.db, [...tickets.keys()]);
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
    const card = await cardOf(deps, row);
    const reason = suppressionOf(deps, row, destination, incidents, card);
    if (reason !== null) {
      await suppressOutboxRow(deps.db, row.id, reason, deps.now());
      report.suppressed++;
      continue;
    }
    if (!(await takeSlot(deps, row, destination))) {
      report.deferred++;
      continue;
    }
    const outcome = await send(deps, row, destination, tickets, card);
    const attempt = await record(deps, row, outcome, report);
    // A ticket gone from the store is no fault of the destination, which was never asked; nor is a 429.
    if ((row.ticket_id === null || tickets.has(row.ticket_id)) && attempt.status !== 429) await trackDestination(deps, row, attempt);
  }
  return report;
}

/** A destination with a rate limit is sent to no faster than it allows; a row that would be early waits, unclaimed. */
async function takeSlot(deps: DeliveryDeps, row: OutboxRow, destination: Destination): Promise<boolean> {
  const limit = rateLimitOf(deps, row, destination);
  if (!limit) return true;
  const at = deps.now().getTime();
  const free = limit.slots.get(limit.key) ?? 0;
  if (free > at) {
    await releaseOutboxRow(deps.db, row.id, new Date(free));
    return false;
  }
  limit.slots.set(limit.key, at + limit.interval);
  return true;
}

/** The destination's rate limit as the worker keeps it: its slot key and interval; null when it has none. */
function rateLimitOf(deps: DeliveryDeps, row: OutboxRow, destination: Destination) {
  const interval = destination.connector.minIntervalMs?.(destination.config) ?? 0;
  if (interval <= 0 || !deps.nextSlot) return null;
  return { slots: deps.nextSlot, key: `${row.destination_kind}:${row.destination_id}`, interval };
}

async function loadTicketsOf(db: Db, rows: readonly OutboxRow[]): Promise<Map<string, TicketDocument>> {
  const ids = [...new Set(rows.flatMap((r) => (r.ticket_id === null ? [] : [r.ticket_id])))];
  return new Map((await loadTicketDocuments(db, ids)).map((t) => [t.id, t]));
}

/**
 * Paces the requests of one delivery: the first was given its slot by `takeSlot`; each further one waits for
 * the destination's next free slot and takes it.
 */
function pacer(deps: DeliveryDeps, row: OutboxRow, destination: Destination): (() => Promise<void>) | undefined {
  const limit = rateLimitOf(deps, row, destination);
  if (!limit) return undefined;
  const { slots, key, interval } = limit;
  const sleep = sleeperOf(deps);
  let first = true;
  return async () => {
    if (first) {
      first = false;
      return;
    }
    const free = slots.get(key) ?? 0;
    const wait = free - deps.now().getTime();
    if (wait > 0) await sleep(wait);
    slots.set(key, Math.max(free, deps.now().getTime()) + interval);
  };
}

async function send(
  deps: DeliveryDeps,
  row: OutboxRow,
  destination: Destination,
  tickets: Map<string, TicketDocument>,
  card: string | null,
): Promise<DeliveryOutcome> {
  const pace = pacer(deps, row, destination);
  const ctx = { now: deps.now(), timeoutMs: deps.policy.timeoutSeconds * 1000, ...(pace ? { pace } : {}) };
  const { connector, config } = destination;
  if (row.destination_kind === 'channel') {
    if (!connector.sendMessage) return unsupported(connector, row);
    const rendered = await channelBody(deps, row, tickets);
    if (!rendered.ok) return rendered.failure;
    const { body } = rendered;
    const subject = row.subject;
    return connector.sendMessage(config, {
      messageId: row.message_id, body, subject, card,
      openUrl: openUrlOf(deps.publicUrl, subject), actions: connector.offersActions?.(config) ?? false,
    }, ctx);
  }
  if (row.ticket_id === null) {
    // A message of no ticket for a generic webhook helpdesk carries its whole body.
    if (!connector.sendMessage) return unsupported(connector, row);
    return connector.sendMessage(config, { messageId: row.message_id, body: row.payload, subject: null, card: null, openUrl: null, actions: false }, ctx);
  }
  const ticket = tickets.get(row.ticket_id);
  if (!ticket) return { ok: false, status: null, error: `ticket ${row.ticket_id} is gone`, retryAfterMs: null, gone: true };
  const event = await renderEvent(deps.db, row, ticket);
  if (!connector.deliverTicket) return unsupported(connector, row);
  const link = await findTicketLink(deps.db, row.ticket_id, row.destination_id);
  return connector.deliverTicket(config, {
    messageId: row.message_id,
    event,
    link: link ? { externalId: link.external_id, externalStatus: link.external_status } : null,
    // An earlier send may have landed: its worker died before recording it (this claim is counted already, so
    // more claims than attempts + 1), or it timed out or met a 5xx.
    uncertain: row.claims > row.attempts + 1 || (row.attempts > 0 && (row.last_status === null || row.last_status >= 500)),
  }, ctx);
}

/**
 * A channel message's body, rendered now: a ticket event from the ticket as it is, an incident event from the
 * incident as it is; target and destination alerts carry their whole message.
 */
async function channelBody(
  deps: DeliveryDeps,
  row: OutboxRow,
  tickets: Map<string, TicketDocument>,
): Promise<{ ok: true; body: Record<string, unknown> } | { ok: false; failure: DeliveryOutcome }> {
  const gone = (what: string) => ({ ok: false as const, failure: { ok: false as const, status: null, error: `${what} is gone`, retryAfterMs: null, gone: true } });
  const incidentId = row.subject?.startsWith('incident:') ? row.subject.slice('incident:'.length) : null;
  if (incidentId !== null) {
    const event = await loadIncidentEvent(deps.db, incidentId, { type: row.event_type, createdAt: row.created_at, payload: row.payload }, deps.publicUrl ?? null);
    return event ? { ok: true, body: event } : gone(`incident ${incidentId}`);
  }
  if (row.ticket_id === null) return { ok: true, body: row.payload };
  const ticket = tickets.get(row.ticket_id);
  if (!ticket) return gone(`ticket ${row.ticket_id}`);
  return { ok: true, body: await renderEvent(deps.db, row, ticket) };
}

/** The subject in earshot, for an "open in earshot" link. */
function openUrlOf(publicUrl: string | null | undefined, subject: string | null): string | null {
  if (!publicUrl || subject === null) return null;
  const [kind, id] = subject.split(':');
  return `${publicUrl.replace(/\/+$/, '')}/api/v1/${kind === 'incident' ? 'incidents' : 'tickets'}/${id}`;
}

/**
 * The channel's card of the row's subject, which its message edits or threads on; null for a row of no subject,
 * of another destination kind, or a reminder, which starts a new card so that it pings.
 */
async function cardOf(deps: DeliveryDeps, row: OutboxRow): Promise<string | null> {
  if (row.destination_kind !== 'channel' || row.subject === null || (row.payload as { remind?: boolean }).remind === true) return null;
  return findChannelCard(deps.db, row.destination_id, row.subject);
}

const REFRESH_EVENTS = new Set(['ticket.updated', 'incident.updated']);
const HELD_BY_INCIDENT = new Set(['ticket.created', 'ticket.sla_warning']);

/**
 * Why a channel row is not sent at all, or null: a card refresh the channel cannot take (or of a card it never
 * showed), and a ticket's own alert while the ticket belongs to a live incident the channel hears of: the team
 * gets one incident card, not one ping per ticket (the ticket itself still opens and reaches its helpdesks).
 */
function suppressionOf(deps: DeliveryDeps, row: OutboxRow, destination: Destination, incidents: Map<string, string>, card: string | null): string | null {
  if (row.destination_kind !== 'channel') return null;
  if (REFRESH_EVENTS.has(row.event_type)) {
    const { cardUpdates, type } = destination.connector;
    if (!cardUpdates) return `a ${type} channel is not sent card refreshes`;
    if (cardUpdates === 'edit' && card === null) return 'no card of it in this channel to refresh';
  }
  if (HELD_BY_INCIDENT.has(row.event_type) && row.ticket_id !== null && incidents.has(row.ticket_id)) {
    const channel = deps.channels?.find((c) => c.id === row.destination_id);
    if (channel?.events.includes('incident.opened')) return `held back: the ticket belongs to incident ${incidents.get(row.ticket_id)}, told in its card`;
  }
  return null;
}

/** The event as its receiver reads it: the ticket now, what happened (a joined copy shown whole), the alert line. */
async function renderEvent(db: Db, row: OutboxRow, ticket: TicketDocument): Promise<TicketEvent> {
  const stored = row.payload as { change?: TicketChange | null; alert?: { kind: string; summary: string } };
  let change = stored.change ?? null;
  const mentionId = change?.changes.mention_id;
  if (change && typeof mentionId === 'string') {
    const mention = (await loadMentionDocuments(db, [mentionId])).get(mentionId);
    change = { ...change, changes: { ...change.changes, mention: mention ?? null } };
  }
  return {
    type: row.event_type as TicketEvent['type'],
    timestamp: row.created_at.toISOString(),
    data: { ticket, change, ...(stored.alert ? { alert: stored.alert } : {}) },
  };
}

function unsupported(connector: Connector, row: OutboxRow): DeliveryOutcome {
  return { ok: false, status: null, error: `a ${connector.type} destination cannot take ${row.destination_kind} messages`, retryAfterMs: null, gone: true };
}

/** Records the attempt on its outbox row; returns it as the destination's health counts it. */
async function record(deps: DeliveryDeps, row: OutboxRow, outcome: DeliveryOutcome, report: DeliveryReport): Promise<AttemptOutcome> {
  const attempts = row.attempts + 1;
  const at = deps.now();
  if (outcome.ok) {
    report.delivered++;
    await inTransaction(deps.db, async (trx) => {
      await recordOutboxAttempt(trx, row.id, { status: 'delivered', attempts, at, httpStatus: outcome.status, error: null });
      if (row.destination_kind === 'channel' && row.subject !== null && outcome.externalId !== undefined) {
        await saveChannelCard(trx, { channelId: row.destination_id, subject: row.subject, card: outcome.externalId }, at);
      }
      if (row.destination_kind === 'helpdesk' && row.ticket_id !== null && outcome.externalId !== undefined) {
        await upsertTicketLink(trx, {
          ticketId: row.ticket_id, helpdeskId: row.destination_id, externalId: outcome.externalId, externalStatus: outcome.externalStatus ?? null,
        }, at);
      }
    });
    return { ok: true, dead: false, at, status: outcome.status, error: null };
  }
  // A 429 is the destination asking us to wait (Telegram's flood control), not a failure: it never makes a row
  // dead, so a message is queued, never dropped.
  const dead = outcome.gone || (attempts >= deps.policy.maxAttempts && outcome.status !== 429);
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
  return { ok: false, dead, at, status: outcome.status, error: outcome.error };
}

type AttemptOutcome = Omit<DestinationAttempt, 'kind' | 'id'>;

/**
 * Counts the attempt in its destination's health and, when it starts a failing episode, queues the episode's
 * alerts in the same transaction. Kept apart from the row's own record, which a failure here must not undo.
 */
async function trackDestination(deps: DeliveryDeps, row: OutboxRow, attempt: AttemptOutcome): Promise<void> {
  const destination = `${row.destination_kind}:${row.destination_id}`;
  const tracked = await inTransaction(deps.db, async (trx) => {
    const health = await recordDestinationAttempt(trx, { kind: row.destination_kind, id: row.destination_id, ...attempt });
    const plan = health.started && deps.planDestinationAlerts
      ? deps.planDestinationAlerts({ episode: health.started, channels: deps.channels ?? [], now: attempt.at })
      : [];
    return { health, alerts: await enqueueAlerts(trx, plan, attempt.at) };
  }).catch((err: unknown) => {
    deps.log.warn({ err, destination }, 'could not record the health of a destination');
    return null;
  });
  if (!tracked) return;
  const { started, recovered } = tracked.health;
  if (started) {
    deps.log.warn(
      { destination, failingSince: started.failingSince.toISOString(), consecutiveFailures: started.consecutiveFailures, status: started.lastStatus, error: started.lastError, alerts: tracked.alerts },
      'destination is failing (see GET /api/v1/destinations)',
    );
  }
  if (recovered) {
    deps.log.info(
      { destination, failingSince: recovered.failingSince.toISOString(), failedForMs: attempt.at.getTime() - recovered.failingSince.getTime(), consecutiveFailures: recovered.consecutiveFailures },
      'destination recovered: a delivery succeeded again',
    );
  }
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

/** When the first destination held back by its rate limit may be sent to again; null when none is. */
export function nextFreeSlot(deps: Pick<DeliveryDeps, 'nextSlot' | 'now'>): number | null {
  const now = deps.now().getTime();
  const ahead = [...(deps.nextSlot?.values() ?? [])].filter((at) => at > now);
  return ahead.length === 0 ? null : Math.min(...ahead);
}

/** The deps' way to wait, or a timer. */
export function sleeperOf(deps: Pick<DeliveryDeps, 'sleep'>): (ms: number) => Promise<void> {
  return deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
}
