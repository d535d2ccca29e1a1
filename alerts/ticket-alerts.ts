import type { ChannelAlert } from '../store/outbox.ts';
import { channelsFor, sendAt, type AlertFacts, type ChannelRoute } from './routes.ts';

export interface TicketForAlert {
  id: string;
  brand_id: number;
  team: string;
  title: string;
  priority: string;
  /** The channels the ticket's route chose; null: every channel (tickets older than routing). */
  channels: readonly string[] | null;
}

/** The channels of the ticket's route that hear `facts`, each with when its message may go. */
function routed(ticket: TicketForAlert, routes: readonly ChannelRoute[], facts: AlertFacts, now: Date) {
  return channelsFor(routes, facts)
    .filter((c) => ticket.channels === null || ticket.channels.includes(c.id))
    .map((route) => ({ route, when: sendAt(route, facts, now) }));
}

function factsOf(ticket: TicketForAlert, brandName: string | null, event: string, source: string | null): AlertFacts {
  // An urgent ticket is critical: it passes a channel's quiet hours.
  return { event, brand: brandName, team: ticket.team, priority: ticket.priority, source, critical: ticket.priority === 'urgent' };
}

function alertOf(
  ticket: TicketForAlert,
  channelId: string,
  when: { at: Date; quietUntil: Date | null },
  m: { messageId: string; kind: string; eventType: string; payload: Record<string, unknown> },
): ChannelAlert {
  return {
    kind: m.kind,
    brandId: ticket.brand_id,
    heldUntil: when.quietUntil,
    message: {
      messageId: m.messageId, destinationKind: 'channel', destinationId: channelId, eventType: m.eventType,
      ticketId: ticket.id, payload: m.payload, notBefore: when.at,
    },
  };
}

/**
 * "Ticket created" alerts: one message per channel of the ticket's route that hears the event and whose filters
 * pass, after the channel's group wait (an incident opening meanwhile holds it back) and quiet hours. They go
 * through the same outbox as helpdesk pushes, in the ticket's transaction; the message id keeps each at one.
 */
export function planTicketAlerts(input: {
  ticket: TicketForAlert;
  brandName: string;
  source: string | null;
  channels: readonly ChannelRoute[];
  now: Date;
}): ChannelAlert[] {
  const { ticket } = input;
  const facts = factsOf(ticket, input.brandName, 'ticket.created', input.source);
  return routed(ticket, input.channels, facts, input.now).map(({ route, when }) =>
    alertOf(ticket, route.id, when, {
      messageId: `msg_ticket_${ticket.id}_channel_${route.id}`,
      kind: 'ticket_created',
      eventType: 'ticket.created',
      payload: { alert: { kind: 'ticket_created', summary: `New ticket for ${input.brandName}, team ${ticket.team}: ${ticket.title}` } },
    }),
  );
}

const METRIC_NAMES = { first_response: 'first response', resolution: 'resolution' } as const;

/**
 * SLA alerts for the ticket's team: a warning at 80% of a target and a breach at 100%, once per ticket,
 * metric and kind, to the ticket's channels subscribed to `ticket.sla_warning` / `ticket.sla_breached`.
 * A breach is critical: it passes quiet hours.
 */
export function planSlaAlerts(input: {
  ticket: TicketForAlert & { dueAt: Date | null };
  brandName: string | null;
  event: 'sla_warning' | 'sla_breached';
  metric: 'first_response' | 'resolution';
  channels: readonly ChannelRoute[];
  now: Date;
  change: Record<string, unknown>;
}): ChannelAlert[] {
  const { ticket, event, metric } = input;
  const what = METRIC_NAMES[metric];
  const due = ticket.dueAt ? ` (due ${ticket.dueAt.toISOString()})` : '';
  const summary = event === 'sla_warning'
    ? `SLA warning, team ${ticket.team}: 80% of the ${what} time is gone${due}: ${ticket.title}`
    : `SLA breached, team ${ticket.team}: ${what} is overdue${due}: ${ticket.title}`;
  const facts = { ...factsOf(ticket, input.brandName, `ticket.${event}`, null), critical: event === 'sla_breached' || ticket.priority === 'urgent' };
  return routed(ticket, input.channels, facts, input.now).map(({ route, when }) =>
    alertOf(ticket, route.id, when, {
      messageId: `msg_ticket_${ticket.id}_${event}_${metric}_channel_${route.id}`,
      kind: `${event}:${metric}`,
      eventType: `ticket.${event}`,
      payload: { alert: { kind: event, summary }, change: input.change },
    }),
  );
}

/** The ticket changes a person watching its card cares about: who has it, where it stands, how urgent it is. */
const CARD_CHANGES = new Set(['status', 'assignment', 'priority', 'team', 'answered_on_source', 'not_actionable', 'helpdesk_status']);

/**
 * "Ticket updated": the ticket's card in each channel of its route is refreshed (edited in place where the
 * channel can; the generic webhook gets the event). Only for changes shown on the card; `version` keeps each
 * change's message apart. Never held for quiet hours: an edit does not ping.
 */
export function planTicketUpdateAlerts(input: {
  ticket: TicketForAlert & { version: number };
  brandName: string | null;
  changeKind: string;
  changedFields: readonly string[];
  channels: readonly ChannelRoute[];
  now: Date;
  change: Record<string, unknown>;
}): ChannelAlert[] {
  const { ticket } = input;
  const shown = CARD_CHANGES.has(input.changeKind) || input.changedFields.some((f) => ['status', 'assignee', 'priority', 'team'].includes(f));
  if (!shown) return [];
  const facts = { ...factsOf(ticket, input.brandName, 'ticket.updated', null), critical: true };
  return routed(ticket, input.channels, facts, input.now).map(({ route }) =>
    alertOf(ticket, route.id, { at: input.now, quietUntil: null }, {
      messageId: `msg_ticket_${ticket.id}_v${ticket.version}_channel_${route.id}`,
      kind: `ticket_updated:v${ticket.version}`,
      eventType: 'ticket.updated',
      payload: { alert: { kind: 'ticket_updated', summary: `Ticket ${input.changeKind.replaceAll('_', ' ')}: ${ticket.title}` }, change: input.change },
    }),
  );
}
