import { planTicketAlerts } from '../alerts/ticket-alerts.ts';
import type { Db } from '../store/connect.ts';
import { correctActionable, type CorrectionResult } from '../store/corrections.ts';
import { linkTickets, liveIncidentsOfBrands } from '../store/incidents.ts';
import { enqueueAlerts } from '../store/outbox.ts';
import { findMentionForTicket, findOpenTicketOpenedBy, findOpenTicketsOfMentions } from '../store/tickets.ts';
import { openTickets, ticketPriority, type ActionableMention, type RoutedMention } from '../tickets/open.ts';
import { routeMention } from './routing.ts';
import { changeTickets } from './ticket-changes.ts';
import type { TicketPolicy } from './ticket-policy.ts';

/**
 * Turns actionable mentions into tickets, in the caller's transaction: each is routed by the rules (an ignored
 * one opens none), one ticket per story opens with its helpdesk pushes, a copy of a story with an open ticket
 * joins it (a change the helpdesks hear of), and the channels of each new ticket's route are alerted.
 * Returns how many tickets opened.
 */
export async function openTicketsWithAlerts(
  trx: Db,
  mentions: readonly ActionableMention[],
  ctx: { brandNames: ReadonlyMap<number, string>; policy: TicketPolicy; now: Date; team?: string | null },
): Promise<number> {
  if (mentions.length === 0) return 0;
  const { policy } = ctx;
  const defaults = { defaultTeam: policy.defaultTeam, helpdesks: policy.helpdesks.map((h) => h.id), channels: policy.channels.map((c) => c.id) };
  const routed: RoutedMention[] = [];
  for (const mention of mentions) {
    const { row } = mention;
    const route = routeMention(policy.routing, {
      brand: ctx.brandNames.get(row.brand_id)!, source: row.source, targetId: row.target_id ?? null, targetTeam: ctx.team ?? null,
      lang: row.lang, sentiment: row.sentiment, reasons: row.action_reasons ?? [], priority: ticketPriority(row),
      rating: row.rating ?? null, title: row.title ?? null, text: row.text,
    }, defaults);
    if (!route.ignored) routed.push({ ...mention, route });
  }
  const { opened, joined } = await openTickets(trx, routed, { now: ctx.now, sla: policy.sla });
  await changeTickets(trx, joined.map(({ ticketId, mentionId }) => ({ ticketId, actor: 'system', kind: 'copy_joined' as const, mentionId })), ctx);
  const rows = new Map(routed.map((m) => [m.id, m.row]));
  const live = await liveIncidentsOfBrands(trx, [...new Set(opened.map((t) => t.brand_id))]);
  // A negative ticket opening during its brand's crisis belongs to the incident: its channels hear of it in the card.
  const linked = opened.filter((t) => live.has(t.brand_id) && rows.get(t.mention_id)?.sentiment === 'negative');
  for (const ticket of linked) ticket.incident_id = live.get(ticket.brand_id)!;
  await linkTickets(trx, linked.map((t) => ({ ticketId: t.id, incidentId: t.incident_id! })));
  const alerts = opened.flatMap((ticket) =>
    planTicketAlerts({
      ticket, brandName: ctx.brandNames.get(ticket.brand_id)!, source: rows.get(ticket.mention_id)?.source ?? null, channels: policy.channels, now: ctx.now,
    }),
  );
  await enqueueAlerts(trx, alerts, ctx.now);
  return opened.length;
}

/**
 * Opens the ticket a person asked for by marking a stored mention actionable: routed like a crawled one, with
 * the same pushes and alerts. Returns false when the mention already has a ticket, or its story has an open
 * one (it joins that).
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

/**
 * The brand answered on the source (a 2GIS official answer, a store developer reply): the open ticket of that
 * mention, or of its story, is solved with that reason, and its helpdesks hear of the answer.
 */
export async function solveAnsweredTickets(
  trx: Db,
  answered: readonly { id: string; reply: { text: string; at: string | null } }[],
  ctx: { policy: TicketPolicy; now: Date },
): Promise<void> {
  if (answered.length === 0) return;
  const tickets = await findOpenTicketsOfMentions(trx, answered.map((a) => a.id));
  const requests = answered.flatMap(({ id, reply }) => {
    const ticketId = tickets.get(id);
    return ticketId ? [{ ticketId, actor: 'system', kind: 'answered_on_source' as const, reply }] : [];
  });
  await changeTickets(trx, requests, ctx);
}

/**
 * A person decided a mention needs no reply: the open ticket it opened is set aside as `ignored` (reason
 * not_actionable), and its helpdesks hear of it. A copy's decision leaves its story's ticket alone.
 */
export async function ignoreTicketOfMention(trx: Db, mentionId: string, ctx: { policy: TicketPolicy; now: Date; actor: string }): Promise<void> {
  const ticketId = await findOpenTicketOpenedBy(trx, mentionId);
  if (ticketId === undefined) return;
  await changeTickets(trx, [{ ticketId, actor: ctx.actor, kind: 'not_actionable' }], ctx);
}

/**
 * A person decided whether a stored mention needs a reply: the correction is recorded (re-crawls keep it), then
 * marking it actionable opens its ticket, routed like a crawled one, and marking it not actionable sets aside the
 * open ticket it opened. Without a ticket policy only the correction is recorded. Null: there is no such mention.
 */
export async function correctActionableWithTicket(
  trx: Db,
  input: { mentionId: string; actionable: boolean; actor: string; note?: string | null | undefined; now: Date },
  policy: TicketPolicy | null,
): Promise<CorrectionResult | null> {
  const corrected = await correctActionable(trx, input);
  if (corrected && policy) {
    const ctx = { policy, now: input.now, actor: input.actor };
    if (input.actionable) await openTicketForMention(trx, input.mentionId, ctx);
    else await ignoreTicketOfMention(trx, input.mentionId, ctx);
  }
  return corrected;
}
