import { planSlaAlerts } from '../alerts/ticket-alerts.ts';
import type { Db } from '../store/connect.ts';
import { enqueueAlerts } from '../store/outbox.ts';
import { applyTicketChanges, type AppliedChange, type RefusedChange } from '../tickets/changes.ts';
import type { TicketChangeRequest } from '../tickets/lifecycle.ts';
import type { TicketPolicy } from './ticket-policy.ts';

/**
 * Every change of a ticket goes through here, in the caller's transaction: the lifecycle writes it (seq,
 * version, history, helpdesk pushes), then the SLA warnings and breaches among the changes are told to the
 * ticket's channels.
 */
export async function changeTickets(
  trx: Db,
  requests: readonly TicketChangeRequest[],
  ctx: { policy: TicketPolicy; now: Date },
): Promise<{ applied: AppliedChange[]; refused: RefusedChange[] }> {
  const result = await applyTicketChanges(trx, requests, {
    now: ctx.now, sla: ctx.policy.sla, helpdesks: ctx.policy.helpdesks.map((h) => h.id),
  });
  const alerts = result.applied.flatMap(({ ticket, change }) => {
    if (change.kind !== 'sla_warning' && change.kind !== 'sla_breached') return [];
    const metric = change.changes.metric as 'first_response' | 'resolution';
    const dueAt = metric === 'first_response' ? ticket.first_response_due_at : ticket.resolution_due_at;
    return planSlaAlerts({ ticket: { ...ticket, dueAt }, event: change.kind, metric, channels: ctx.policy.channels }).map((alert) => ({
      kind: alert.kind,
      brandId: ticket.brand_id,
      message: {
        messageId: alert.messageId, destinationKind: 'channel' as const, destinationId: alert.channelId,
        eventType: alert.eventType, ticketId: ticket.id, payload: { ...alert.payload, change },
      },
    }));
  });
  await enqueueAlerts(trx, alerts, ctx.now);
  return result;
}
