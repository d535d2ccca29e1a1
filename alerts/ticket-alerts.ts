/** An outbox message for one alert channel, with the alert row it belongs to. */
export interface AlertMessage {
  channelId: string;
  messageId: string;
  kind: string;
  eventType: string;
  /** What the alert adds to the ticket event, which is rendered with the ticket as it is when it is sent. */
  payload: { alert: { kind: string; summary: string } };
}

export interface TicketForAlert {
  id: string;
  team: string;
  title: string;
  /** The channels the ticket's route chose; null: every channel (tickets older than routing). */
  channels: readonly string[] | null;
}

type Channels = readonly { id: string; events: readonly string[] }[];

function routedChannels(ticket: TicketForAlert, channels: Channels, event: string): Channels {
  return channels.filter((c) => c.events.includes(event) && (ticket.channels === null || ticket.channels.includes(c.id)));
}

/**
 * "Ticket created" alerts: one message per channel of the ticket's route subscribed to the event. They go
 * through the same outbox as helpdesk pushes, in the ticket's transaction; the unique (kind, channel, ticket)
 * of the alert row keeps each at one.
 */
export function planTicketAlerts(input: { ticket: TicketForAlert; brandName: string; channels: Channels }): AlertMessage[] {
  const { ticket } = input;
  return routedChannels(ticket, input.channels, 'ticket.created').map((channel) => ({
    channelId: channel.id,
    messageId: `msg_ticket_${ticket.id}_channel_${channel.id}`,
    kind: 'ticket_created',
    eventType: 'ticket.created',
    payload: {
      alert: { kind: 'ticket_created', summary: `New ticket for ${input.brandName}, team ${ticket.team}: ${ticket.title}` },
    },
  }));
}

const METRIC_NAMES = { first_response: 'first response', resolution: 'resolution' } as const;

/**
 * SLA alerts for the ticket's team: a warning at 80% of a target and a breach at 100%, once per ticket,
 * metric and kind, to the ticket's channels subscribed to `ticket.sla_warning` / `ticket.sla_breached`.
 */
export function planSlaAlerts(input: {
  ticket: TicketForAlert & { dueAt: Date | null };
  event: 'sla_warning' | 'sla_breached';
  metric: 'first_response' | 'resolution';
  channels: Channels;
}): AlertMessage[] {
  const { ticket, event, metric } = input;
  const what = METRIC_NAMES[metric];
  const due = ticket.dueAt ? ` (due ${ticket.dueAt.toISOString()})` : '';
  const summary = event === 'sla_warning'
    ? `SLA warning, team ${ticket.team}: 80% of the ${what} time is gone${due}: ${ticket.title}`
    : `SLA breached, team ${ticket.team}: ${what} is overdue${due}: ${ticket.title}`;
  const kind = `${event}:${metric}`;
  return routedChannels(ticket, input.channels, `ticket.${event}`).map((channel) => ({
    channelId: channel.id,
    messageId: `msg_ticket_${ticket.id}_${event}_${metric}_channel_${channel.id}`,
    kind,
    eventType: `ticket.${event}`,
    payload: { alert: { kind: event, summary } },
  }));
}
