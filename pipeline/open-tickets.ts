import { planTicketAlerts } from '../alerts/ticket-created.ts';
import type { Db } from '../store/connect.ts';
import { enqueueAlerts } from '../store/outbox.ts';
import { findMentionForTicket } from '../store/tickets.ts';
import { openTickets, type ActionableMention, type TicketPolicy } from '../tickets/open.ts';

/**
 * Turns actionable mentions into tickets, in the caller's transaction: one ticket per story with its helpdesk
 * pushes, then the "ticket created" alerts of the channels subscribed to them. Returns how many opened.
 */
export async function openTicketsWithAlerts(
  trx: Db,
  mentions: readonly ActionableMention[],
  ctx: { brandNames: ReadonlyMap<number, string>; policy: TicketPolicy; now: Date; team?: string | null },
): Promise<number> {
  const opened = await openTickets(trx, mentions, ctx);
  const alerts = opened.flatMap(({ ticket, brandName, payload }) =>
    planTicketAlerts({ ticket, brandName, payload, channels: ctx.policy.channels }).map((alert) => ({
      kind: 'ticket_created',
      brandId: ticket.brand_id,
      message: {
        messageId: alert.messageId, destinationKind: 'channel' as const, destinationId: alert.channelId,
        eventType: 'ticket.created', ticketId: ticket.id, payload: alert.payload,
      },
    })),
  );
  await enqueueAlerts(trx, alerts, ctx.now);
  return opened.length;
}

/**
 * Opens the ticket a person asked for by marking a stored mention actionable: routed to its target's team,
 * with the same pushes and alerts as a crawl's. Returns false when the mention already has a ticket, or its
 * story has an open one (it attaches to that).
 */
export async function openTicketForMention(trx: Db, mentionId: string, ctx: { policy: TicketPolicy; now: Date }): Promise<boolean> {
  const found = await findMentionForTicket(trx, mentionId);
  if (!found) return false;
  const brandNames = new Map([[found.row.brand_id, found.brandName]]);
  const opened = await openTicketsWithAlerts(trx, [{ id: found.id, row: found.row, clusterId: found.clusterId }], {
    brandNames, policy: ctx.policy, now: ctx.now, team: found.team,
  });
  return opened > 0;
}
