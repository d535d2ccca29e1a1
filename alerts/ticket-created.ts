import type { Db } from '../store/connect.ts';

/**
 * "Ticket created" alerts: one alert row per subscribed channel, delivered through the same outbox as
 * helpdesk pushes, inside the ticket's transaction. The unique (kind, channel, ticket) keeps it at one.
 */
export async function planTicketAlerts(
  trx: Db,
  input: {
    ticket: { id: string; brand_id: number; team: string; title: string };
    brandName: string;
    payload: { type: string; timestamp: string; data: Record<string, unknown> };
    channels: readonly { id: string; events: readonly string[] }[];
    now: Date;
  },
): Promise<void> {
  for (const channel of input.channels) {
    if (!channel.events.includes('ticket.created')) continue;
    const body = {
      ...input.payload,
      data: {
        ...input.payload.data,
        alert: {
          kind: 'ticket_created',
          summary: `New ticket for ${input.brandName}, team ${input.ticket.team}: ${input.ticket.title}`,
        },
      },
    };
    const outbox = await trx
      .insertInto('outbox')
      .values({
        message_id: `msg_ticket_${input.ticket.id}_channel_${channel.id}`,
        destination_kind: 'channel',
        destination_id: channel.id,
        event_type: 'ticket.created',
        ticket_id: input.ticket.id,
        payload: JSON.stringify(body),
        status: 'pending',
        attempts: 0,
        next_attempt_at: input.now,
        created_at: input.now,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await trx
      .insertInto('alerts')
      .values({
        kind: 'ticket_created',
        channel_id: channel.id,
        ticket_id: input.ticket.id,
        brand_id: input.ticket.brand_id,
        outbox_id: outbox.id,
        created_at: input.now,
      })
      .execute();
  }
}
