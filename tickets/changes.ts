import type { Db } from '../store/connect.ts';
import { enqueueOutbox } from '../store/outbox.ts';
import { insertTicketHistory, lockTicketSeq, lockTickets, updateTicket, type TicketRow } from '../store/tickets.ts';
import { planTicketChange, type SlaSettings, type TicketChangeRequest } from './lifecycle.ts';

/** A change as it was written: the ticket after it, and the history row that tells it. */
export interface AppliedChange {
  ticket: TicketRow;
  change: { kind: string; actor: string; changes: Record<string, unknown>; note: string | null; seq: string; version: number; at: string };
}

export type RefusedChange = { ticketId: string; reason: 'missing' | 'closed' | 'version'; message: string };

export interface ChangeContext {
  now: Date;
  sla: SlaSettings;
  /** Every configured helpdesk: where a ticket from before routing goes. */
  helpdesks: readonly string[];
}

/**
 * The one writer of ticket changes, inside the caller's transaction: each applied change takes a new seq (in
 * commit order, under the seq lock), the next version, a history row and a `ticket.updated` outbox row per
 * helpdesk of the ticket, except the helpdesk the change came from. A change that changes nothing is dropped.
 */
export async function applyTicketChanges(
  trx: Db,
  requests: readonly TicketChangeRequest[],
  ctx: ChangeContext,
): Promise<{ applied: AppliedChange[]; refused: RefusedChange[] }> {
  if (requests.length === 0) return { applied: [], refused: [] };
  await lockTicketSeq(trx);
  const rows = new Map((await lockTickets(trx, [...new Set(requests.map((r) => r.ticketId))])).map((t) => [t.id, t]));
  const applied: AppliedChange[] = [];
  const refused: RefusedChange[] = [];
  for (const req of requests) {
    const current = rows.get(req.ticketId);
    if (!current) {
      refused.push({ ticketId: req.ticketId, reason: 'missing', message: `There is no ticket with id ${req.ticketId}.` });
      continue;
    }
    if (req.ifVersion !== undefined && req.ifVersion !== current.version) {
      refused.push({ ticketId: req.ticketId, reason: 'version', message: `Ticket ${req.ticketId} is at version ${current.version}, not ${req.ifVersion}.` });
      continue;
    }
    const plan = planTicketChange(current, req, ctx.now, ctx.sla);
    if (!plan.ok) {
      if (plan.reason === 'closed') refused.push({ ticketId: req.ticketId, reason: 'closed', message: plan.message });
      continue;
    }
    const ticket = await updateTicket(trx, current.id, plan.change.set, ctx.now);
    rows.set(ticket.id, ticket);
    const change = {
      kind: plan.change.kind, actor: req.actor, changes: plan.change.changes, note: req.note ?? null,
      seq: ticket.seq, version: ticket.version, at: ctx.now.toISOString(),
    };
    await insertTicketHistory(trx, [{ ticketId: ticket.id, seq: ticket.seq, version: ticket.version, kind: change.kind, actor: change.actor, changes: change.changes, note: change.note, at: ctx.now }]);
    if (plan.change.notifyHelpdesks) {
      const helpdesks = (ticket.helpdesks ?? ctx.helpdesks).filter((id) => id !== plan.change.origin);
      await enqueueOutbox(
        trx,
        helpdesks.map((helpdesk) => ({
          messageId: `msg_ticket_${ticket.id}_v${ticket.version}_helpdesk_${helpdesk}`,
          destinationKind: 'helpdesk' as const,
          destinationId: helpdesk,
          eventType: 'ticket.updated',
          ticketId: ticket.id,
          payload: { change },
        })),
        ctx.now,
      );
    }
    applied.push({ ticket, change });
  }
  return { applied, refused };
}
