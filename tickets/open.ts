import type { Db } from '../store/connect.ts';
import type { MentionInput } from '../store/mentions.ts';
import { enqueueOutbox } from '../store/outbox.ts';
import type { TicketPriority } from '../store/schema.ts';
import { findOpenTicketsOfClusters, insertTicketHistory, insertTickets, lockTicketSeq, type TicketRow } from '../store/tickets.ts';
import type { SlaSettings } from './lifecycle.ts';
import { slaDeadlines } from './sla.ts';

export interface ActionableMention {
  id: string;
  row: MentionInput;
  /** The mention's story: one open ticket per cluster. */
  clusterId?: string | null;
}

/** Where a ticket goes, as routing decided: its team and priority, the helpdesks and channels, the rules that chose. */
export interface TicketRoute {
  team: string;
  priority: TicketPriority;
  helpdesks: readonly string[];
  channels: readonly string[];
  rules: readonly string[];
}

export interface RoutedMention extends ActionableMention {
  route: TicketRoute;
}

export interface OpenedTickets {
  opened: TicketRow[];
  /** Copies of stories whose ticket was already open: they join it. */
  joined: { ticketId: string; mentionId: string }[];
}

/**
 * Opens one ticket per story among routed mentions, inside the caller's transaction, with its SLA deadlines
 * fixed now, a `created` history row and a `ticket.created` outbox row per helpdesk of its route. The unique
 * mention_id and the one open ticket per cluster make a repeat a no-op.
 */
export async function openTickets(
  trx: Db,
  mentions: readonly RoutedMention[],
  ctx: { now: Date; sla: SlaSettings },
): Promise<OpenedTickets> {
  if (mentions.length === 0) return { opened: [], joined: [] };
  await lockTicketSeq(trx);
  const { opening, joined } = await joinOpenTickets(trx, mentions);
  const opened = await insertTickets(
    trx,
    opening.map(({ id, row, clusterId, route }) => {
      const policy = ctx.sla.policy[route.priority];
      return {
        mentionId: id,
        brandId: row.brand_id,
        team: route.team,
        priority: route.priority,
        title: ticketTitle(row),
        clusterId: clusterId ?? null,
        routedBy: route.rules.length > 0 ? route.rules.join(', ') : null,
        helpdesks: route.helpdesks,
        channels: route.channels,
        sla: slaDeadlines(ctx.now, route.priority, ctx.sla.policy, policy.businessHours ? ctx.sla.hoursOf(route.team) : null),
      };
    }),
    ctx.now,
  );
  await insertTicketHistory(
    trx,
    opened.map((t) => ({
      ticketId: t.id, seq: t.seq, version: t.version, kind: 'created', actor: 'system',
      changes: { team: t.team, priority: t.priority, routed_by: t.routed_by }, note: null, at: ctx.now,
    })),
  );
  await enqueueOutbox(
    trx,
    opened.flatMap((ticket) =>
      (ticket.helpdesks ?? []).map((helpdesk) => ({
        messageId: `msg_ticket_${ticket.id}_helpdesk_${helpdesk}`,
        destinationKind: 'helpdesk' as const,
        destinationId: helpdesk,
        eventType: 'ticket.created',
        ticketId: ticket.id,
        payload: { change: null },
      })),
    ),
    ctx.now,
  );
  return { opened, joined };
}

/**
 * The mentions that need a ticket of their own: the first of each story. Copies of a story that already has an
 * open ticket join it; copies within the batch are counted in the story the first one's ticket shows.
 */
async function joinOpenTickets(trx: Db, mentions: readonly RoutedMention[]) {
  const openByCluster = await findOpenTicketsOfClusters(trx, [...new Set(mentions.flatMap((m) => (m.clusterId ? [m.clusterId] : [])))]);
  const joined: OpenedTickets['joined'] = [];
  const opening: RoutedMention[] = [];
  const seen = new Set<string>();
  for (const mention of mentions) {
    const ticket = mention.clusterId ? openByCluster.get(mention.clusterId) : undefined;
    if (ticket !== undefined) joined.push({ ticketId: ticket, mentionId: mention.id });
    else if (!mention.clusterId || !seen.has(mention.clusterId)) opening.push(mention);
    if (mention.clusterId) seen.add(mention.clusterId);
  }
  return { opening, joined };
}

const URGENT_REASONS = new Set(['safety', 'legal_threat', 'fraud_claim']);

/** Safety, legal and fraud claims and 1★ reviews first; a thank-you for praise last. Routing rules may change it. */
export function ticketPriority(row: Pick<MentionInput, 'rating' | 'action_reasons'>): TicketPriority {
  const reasons = row.action_reasons ?? [];
  if ((row.rating !== null && row.rating !== undefined && row.rating <= 1) || reasons.some((r) => URGENT_REASONS.has(r))) return 'high';
  if (reasons.length > 0 && reasons.every((r) => r === 'praise')) return 'low';
  return 'normal';
}

function ticketTitle(row: MentionInput): string {
  const label = row.rating ? `${row.rating}★` : row.sentiment;
  const author = row.author;
  // A title is one line: the text keeps its paragraphs, the title does not.
  const text = (row.title ? `${row.title}: ${row.text}` : row.text).replaceAll('\n', ' ');
  const excerpt = text.length > 80 ? `${text.slice(0, 79)}…` : text;
  return `[${label}][${row.source}] ${author.name ?? 'unknown'}: ${excerpt}`;
}
