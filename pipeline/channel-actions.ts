import type { ChannelAction } from '../delivery/connectors/types.ts';
import type { Destination } from '../delivery/outbox.ts';
import { inTransaction } from '../store/connect.ts';
import { correctActionable } from '../store/corrections.ts';
import { lockTicketSeq, lockTickets } from '../store/tickets.ts';
import { actOnIncident, type CrisisDeps } from './crisis.ts';
import { ignoreTicketOfMention } from './open-tickets.ts';
import { changeTickets } from './ticket-changes.ts';
import type { TicketPolicy } from './ticket-policy.ts';

/**
 * A button pressed in a channel: acknowledge an incident, take a ticket (open, assigned to whoever pressed), or
 * mark a ticket's mention not relevant (a correction `train --from-corrections` learns from; the ticket is set
 * aside). Every change refreshes the cards through the usual outbox. Returns the short answer for the presser.
 */
export async function handleChannelAction(deps: CrisisDeps & { policy: TicketPolicy }, action: ChannelAction): Promise<string> {
  const [kind, id] = action.subject.split(':') as [string, string];
  if (kind === 'incident') {
    if (action.kind !== 'ack') return 'Nothing to do';
    const result = await actOnIncident(deps, id, { kind: 'ack', by: action.by });
    if (!result.ok) return 'This incident is gone';
    if (!result.changed) return result.incident.status === 'resolved' ? 'Already resolved' : `Already acknowledged by ${result.incident.acknowledgedBy ?? 'someone'}`;
    return 'Acknowledged';
  }
  const now = deps.now();
  return inTransaction(deps.db, async (trx) => {
    await lockTicketSeq(trx);
    const [ticket] = await lockTickets(trx, [id]);
    if (!ticket) return 'This ticket is gone';
    if (['solved', 'closed', 'ignored', 'spam'].includes(ticket.status)) return `Already ${ticket.status}`;
    if (action.kind === 'not_relevant') {
      await correctActionable(trx, { mentionId: ticket.mention_id, actionable: false, actor: action.by, note: 'button in a channel', now });
      await ignoreTicketOfMention(trx, ticket.mention_id, { policy: deps.policy, now, actor: action.by });
      deps.log.info({ ticket: id, by: action.by }, 'ticket marked not relevant from a channel');
      return 'Marked not relevant';
    }
    if (ticket.assignee === action.by) return 'It is yours already';
    const set = { assignee: action.by, ...(ticket.status === 'new' ? { status: 'open' as const } : {}) };
    await changeTickets(trx, [{ ticketId: id, actor: action.by, kind: 'update', set }], { policy: deps.policy, now });
    deps.log.info({ ticket: id, by: action.by }, 'ticket taken from a channel');
    return 'It is yours';
  });
}

/**
 * Button presses a channel's provider told of (a webhook or a long poll): each is handled, and the presser is
 * answered; an answer that fails is logged, the press stays handled.
 */
export async function respondToPresses(deps: CrisisDeps & { policy: TicketPolicy }, channel: Destination, actions: readonly ChannelAction[]): Promise<void> {
  const { connector, config } = channel;
  for (const action of actions) {
    const text = await handleChannelAction(deps, action);
    deps.log.info({ channel: config.id, action: action.kind, subject: action.subject, by: action.by }, 'button pressed');
    await connector.answerAction?.(config, action, text, { timeoutMs: 5000 }).catch((err: unknown) => {
      deps.log.warn({ channel: config.id, err: (err as Error).message }, 'could not answer a button press');
    });
  }
}
