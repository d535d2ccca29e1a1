import type { Logger } from '../log/logger.ts';
import { changeTickets } from '../pipeline/ticket-changes.ts';
import type { TicketPolicy } from '../pipeline/ticket-policy.ts';
import { inTransaction, type Db } from '../store/connect.ts';
import { findTicketsWithDueSla, lockTicketSeq, lockTickets } from '../store/tickets.ts';
import { dueSlaEvents } from '../tickets/sla.ts';

export interface SlaSweepDeps {
  db: Db;
  now: () => Date;
  policy: TicketPolicy;
  log: Logger;
}

/**
 * Raises the SLA warnings (80%) and breaches (100%) that are due: each is a ticket change (seq, history) and
 * an alert to the channels of the ticket's route. Locked tickets are re-read, so two workers sweeping at once
 * raise each event once. Returns how many were raised.
 */
export async function sweepSlaClocks(deps: SlaSweepDeps): Promise<number> {
  const now = deps.now();
  const due = await findTicketsWithDueSla(deps.db, now, 200);
  if (due.length === 0) return 0;
  const raised = await inTransaction(deps.db, async (trx) => {
    // The seq lock before any ticket row, as every ticket writer takes them: the other order deadlocks with them.
    await lockTicketSeq(trx);
    const tickets = await lockTickets(trx, due);
    const requests = tickets.flatMap((t) =>
      dueSlaEvents({
        firstResponseAt: t.first_response_at, solvedAt: t.solved_at,
        firstResponseWarnAt: t.first_response_warn_at, firstResponseDueAt: t.first_response_due_at,
        resolutionWarnAt: t.resolution_warn_at, resolutionDueAt: t.resolution_due_at,
        warned: t.sla_warned, breached: t.sla_breached, paused: t.sla_paused_at !== null,
      }, now).map((event) => ({ ticketId: t.id, actor: 'system', kind: 'sla' as const, event: event.kind, metric: event.metric })),
    );
    const { applied } = await changeTickets(trx, requests, { policy: deps.policy, now });
    return applied;
  });
  for (const { ticket, change } of raised) {
    deps.log.info({ ticket: ticket.id, team: ticket.team, event: change.kind, metric: change.changes.metric }, 'SLA clock');
  }
  return raised.length;
}
