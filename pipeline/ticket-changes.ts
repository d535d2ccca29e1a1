import { planSlaAlerts, planTicketUpdateAlerts } from '../alerts/ticket-alerts.ts';
import { brandNamesOf } from '../store/brands.ts';
import type { Db } from '../store/connect.ts';
import { enqueueAlerts } from '../store/outbox.ts';
import { applyTicketChanges, type AppliedChange, type RefusedChange } from '../tickets/changes.ts';
import type { TicketChangeRequest } from '../tickets/lifecycle.ts';
import type { TicketPolicy } from './ticket-policy.ts';

/**
 * Every change of a ticket goes through here, in the caller's transaction: the lifecycle writes it (seq,
 * version, history, helpdesk pushes), then the ticket's channels hear of it: SLA warnings and breaches, and the
 * changes its card shows (status, assignee, priority, team), which refresh the card.
 */
export async function changeTickets(
  trx: Db,
  requests: readonly TicketChangeRequest[],
  ctx: { policy: TicketPolicy; now: Date },
): Promise<{ applied: AppliedChange[]; refused: RefusedChange[] }> {
  const result = await applyTicketChanges(trx, requests, {
    now: ctx.now, sla: ctx.policy.sla, helpdesks: ctx.policy.helpdesks.map((h) => h.id),
  });
  const brands = await brandNamesOf(trx, [...new Set(result.applied.map(({ ticket }) => ticket.brand_id))]);
  const alerts = result.applied.flatMap(({ ticket, change }) => {
    const brandName = brands.get(ticket.brand_id) ?? null;
    if (change.kind === 'sla_warning' || change.kind === 'sla_breached') {
      const metric = change.changes.metric as 'first_response' | 'resolution';
      const dueAt = metric === 'first_response' ? ticket.first_response_due_at : ticket.resolution_due_at;
      return planSlaAlerts({ ticket: { ...ticket, dueAt }, brandName, event: change.kind, metric, channels: ctx.policy.channels, now: ctx.now, change });
    }
    return planTicketUpdateAlerts({
      ticket, brandName, changeKind: change.kind, changedFields: Object.keys(change.changes), channels: ctx.policy.channels, now: ctx.now, change,
    });
  });
  await enqueueAlerts(trx, alerts, ctx.now);
  return result;
}
