/** An outbox message for one alert channel, with the alert row it belongs to. */
export interface AlertMessage {
  channelId: string;
  messageId: string;
  payload: Record<string, unknown>;
}

/**
 * "Ticket created" alerts: one message per channel subscribed to the event. They are delivered through
 * the same outbox as helpdesk pushes and written in the ticket's transaction; the unique
 * (kind, channel, ticket) of the alert row keeps each at one.
 */
export function planTicketAlerts(input: {
  ticket: { id: string; team: string; title: string };
  brandName: string;
  payload: { type: string; timestamp: string; data: Record<string, unknown> };
  channels: readonly { id: string; events: readonly string[] }[];
}): AlertMessage[] {
  return input.channels
    .filter((channel) => channel.events.includes('ticket.created'))
    .map((channel) => ({
      channelId: channel.id,
      messageId: `msg_ticket_${input.ticket.id}_channel_${channel.id}`,
      payload: {
        ...input.payload,
        data: {
          ...input.payload.data,
          alert: {
            kind: 'ticket_created',
            summary: `New ticket for ${input.brandName}, team ${input.ticket.team}: ${input.ticket.title}`,
          },
        },
      },
    }));
}
