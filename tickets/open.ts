import type { Db } from '../store/connect.ts';
import type { MentionInput } from '../store/mentions.ts';
import { enqueueOutbox } from '../store/outbox.ts';
import { findOpenTicketsOfClusters, insertTickets, lockTicketSeq, touchTickets, type TicketRow } from '../store/tickets.ts';

/** Who gets a new ticket: routing to a team and the push destinations, from config. */
export interface TicketPolicy {
  defaultTeam: string;
  helpdesks: readonly { id: string }[];
  channels: readonly { id: string; events: readonly string[] }[];
}

export interface ActionableMention {
  id: string;
  row: MentionInput;
  /** The mention's story: one open ticket per cluster. */
  clusterId?: string | null;
}

/** A ticket just opened, with the event that announces it. */
export interface OpenedTicket {
  ticket: TicketRow;
  brandName: string;
  payload: { type: 'ticket.created'; timestamp: string; data: Record<string, unknown> };
}

/**
 * Opens one ticket per story among actionable mentions, with its helpdesk pushes in the outbox, inside the
 * caller's transaction. The unique mention_id and the one open ticket per cluster make a repeat a no-op.
 */
export async function openTickets(
  trx: Db,
  mentions: readonly ActionableMention[],
  ctx: { brandNames: ReadonlyMap<number, string>; policy: TicketPolicy; now: Date; team?: string | null },
): Promise<OpenedTicket[]> {
  if (mentions.length === 0) return [];
  await lockTicketSeq(trx);
  const opening = await attachToOpenTickets(trx, mentions, ctx.now);
  const tickets = await insertTickets(
    trx,
    opening.map(({ id, row, clusterId }) => ({
      mentionId: id,
      brandId: row.brand_id,
      team: ctx.team ?? ctx.policy.defaultTeam,
      priority: ticketPriority(row),
      title: ticketTitle(row),
      clusterId: clusterId ?? null,
    })),
    ctx.now,
  );
  const byMention = new Map(mentions.map((m) => [m.id, m]));
  const opened = tickets.map((ticket): OpenedTicket => {
    const brandName = ctx.brandNames.get(ticket.brand_id)!;
    return {
      ticket,
      brandName,
      payload: {
        type: 'ticket.created',
        timestamp: ctx.now.toISOString(),
        data: { ticket: ticketJson(ticket, brandName), mention: mentionJson(byMention.get(ticket.mention_id)!) },
      },
    };
  });
  await enqueueOutbox(
    trx,
    opened.flatMap(({ ticket, payload }) =>
      ctx.policy.helpdesks.map((helpdesk) => ({
        messageId: `msg_ticket_${ticket.id}_helpdesk_${helpdesk.id}`,
        destinationKind: 'helpdesk' as const,
        destinationId: helpdesk.id,
        eventType: 'ticket.created',
        ticketId: ticket.id,
        payload,
      })),
    ),
    ctx.now,
  );
  return opened;
}

/**
 * The mentions that need a ticket of their own: the first of each story. Copies of a story that already
 * has an open ticket attach to it (its updated_at moves, the cluster shows the copies); copies within the
 * batch wait for the first one's ticket.
 */
async function attachToOpenTickets(trx: Db, mentions: readonly ActionableMention[], now: Date): Promise<ActionableMention[]> {
  const openByCluster = await findOpenTicketsOfClusters(trx, [...new Set(mentions.flatMap((m) => (m.clusterId ? [m.clusterId] : [])))]);
  const attached = new Set<string>();
  const opening: ActionableMention[] = [];
  const seen = new Set<string>();
  for (const mention of mentions) {
    const ticket = mention.clusterId ? openByCluster.get(mention.clusterId) : undefined;
    if (ticket !== undefined) attached.add(ticket);
    else if (!mention.clusterId || !seen.has(mention.clusterId)) opening.push(mention);
    if (mention.clusterId) seen.add(mention.clusterId);
  }
  await touchTickets(trx, [...attached], now);
  return opening;
}

const URGENT_REASONS = new Set(['safety', 'legal_threat', 'fraud_claim']);

/** Safety, legal and fraud claims and 1★ reviews first; a thank-you for praise last. */
function ticketPriority(row: MentionInput): 'high' | 'normal' | 'low' {
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

function ticketJson(ticket: { id: string; seq: string; status: string; priority: string; team: string; title: string; created_at: Date }, brand: string) {
  return {
    id: ticket.id,
    seq: ticket.seq,
    status: ticket.status,
    priority: ticket.priority,
    team: ticket.team,
    title: ticket.title,
    brand,
    created_at: new Date(ticket.created_at).toISOString(),
  };
}

function mentionJson({ id, row }: ActionableMention) {
  return {
    id,
    source: row.source,
    external_id: row.external_id,
    url: row.url,
    author: row.author,
    title: row.title,
    text: row.text,
    rating: row.rating,
    published_at: row.published_at ? new Date(row.published_at).toISOString() : null,
    lang: row.lang,
    sentiment: {
      label: row.sentiment, score: row.sentiment_score, model: row.sentiment_model,
      confidence: row.sentiment_confidence ?? null, reason: row.sentiment_reason ?? null,
    },
    // Why it needs a reply (complaint, question, legal_threat…), strongest first.
    action_reasons: row.action_reasons ?? [],
  };
}
