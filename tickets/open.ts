import { sql } from 'kysely';
import { planTicketAlerts } from '../alerts/ticket-created.ts';
import type { Db } from '../store/connect.ts';
import type { NewMention } from '../store/schema.ts';
import { enqueueOutbox, type OutboxMessage } from './outbox.ts';

/** Who gets a new ticket: routing to a team and the push destinations, from config. */
export interface TicketPolicy {
  defaultTeam: string;
  helpdesks: readonly { id: string }[];
  channels: readonly { id: string; events: readonly string[] }[];
}

export interface ActionableMention {
  id: string;
  row: NewMention;
  /** The mention's story: one open ticket per cluster. */
  clusterId?: string | null;
}

const OPEN_STATUSES = ['new', 'open', 'pending'] as const;

// Held until commit: tickets get their seq in commit order, so the pull API's `seq > cursor` never skips.
const TICKET_SEQ_LOCK = 7262001;

/**
 * Opens one ticket per actionable mention, with its outbox and alert rows, inside the caller's
 * transaction. The unique mention_id makes a second call for the same mention a no-op.
 */
export async function openTickets(
  trx: Db,
  mentions: readonly ActionableMention[],
  ctx: { brandNames: ReadonlyMap<number, string>; policy: TicketPolicy; now: Date; team?: string | null },
): Promise<number> {
  if (mentions.length === 0) return 0;
  await sql`SELECT pg_advisory_xact_lock(${TICKET_SEQ_LOCK})`.execute(trx);
  const opening = await attachToOpenTickets(trx, mentions, ctx.now);
  if (opening.length === 0) return 0;
  const tickets = await trx
    .insertInto('tickets')
    .values(
      opening.map(({ id, row, clusterId }) => ({
        seq: sql<string>`nextval('ticket_seq')`,
        mention_id: id,
        brand_id: row.brand_id,
        team: ctx.team ?? ctx.policy.defaultTeam,
        status: 'new' as const,
        priority: ticketPriority(row),
        title: ticketTitle(row),
        created_at: ctx.now,
        updated_at: ctx.now,
        cluster_id: clusterId ?? null,
      })),
    )
    // A ticket per mention, and one open ticket per cluster: both unique indexes make a repeat a no-op.
    .onConflict((oc) => oc.doNothing())
    .returningAll()
    .execute();
  if (tickets.length === 0) return 0;

  const byMention = new Map(mentions.map((m) => [m.id, m]));
  const outbox: OutboxMessage[] = [];
  const alerts: { ticketId: string; brandId: number; channelId: string; messageId: string }[] = [];
  const message = (kind: 'helpdesk' | 'channel', destination: string, messageId: string, ticketId: string, payload: Record<string, unknown>) =>
    outbox.push({ messageId, destinationKind: kind, destinationId: destination, eventType: 'ticket.created', ticketId, payload });
  for (const ticket of tickets) {
    const mention = byMention.get(ticket.mention_id)!;
    const brandName = ctx.brandNames.get(ticket.brand_id)!;
    const payload = {
      type: 'ticket.created',
      timestamp: ctx.now.toISOString(),
      data: { ticket: ticketJson(ticket, brandName), mention: mentionJson(mention) },
    };
    for (const helpdesk of ctx.policy.helpdesks) {
      message('helpdesk', helpdesk.id, `msg_ticket_${ticket.id}_helpdesk_${helpdesk.id}`, ticket.id, payload);
    }
    for (const alert of planTicketAlerts({ ticket, brandName, payload, channels: ctx.policy.channels })) {
      message('channel', alert.channelId, alert.messageId, ticket.id, alert.payload);
      alerts.push({ ticketId: ticket.id, brandId: ticket.brand_id, channelId: alert.channelId, messageId: alert.messageId });
    }
  }
  // One statement per table for the whole page: per-row round trips were most of the ingest cost.
  if (outbox.length > 0) {
    const outboxId = await enqueueOutbox(trx, outbox, ctx.now);
    const queued = alerts.filter((a) => outboxId.has(a.messageId));
    if (queued.length > 0) {
      await trx
        .insertInto('alerts')
        .values(
          queued.map((a) => ({
            kind: 'ticket_created',
            channel_id: a.channelId,
            ticket_id: a.ticketId,
            brand_id: a.brandId,
            outbox_id: outboxId.get(a.messageId)!,
            created_at: ctx.now,
          })),
        )
        .execute();
    }
  }
  return tickets.length;
}

/**
 * The mentions that need a ticket of their own: the first of each story. Copies of a story that already
 * has an open ticket attach to it (its updated_at moves, the cluster shows the copies); copies within the
 * batch wait for the first one's ticket.
 */
async function attachToOpenTickets(trx: Db, mentions: readonly ActionableMention[], now: Date): Promise<ActionableMention[]> {
  const clusters = [...new Set(mentions.flatMap((m) => (m.clusterId ? [m.clusterId] : [])))];
  const open = clusters.length === 0
    ? []
    : await trx
        .selectFrom('tickets')
        .select(['id', 'cluster_id'])
        .where('cluster_id', 'in', clusters)
        .where('status', 'in', OPEN_STATUSES)
        .execute();
  const openByCluster = new Map(open.map((t) => [t.cluster_id!, t.id]));
  const attached = new Set<string>();
  const opening: ActionableMention[] = [];
  const seen = new Set<string>();
  for (const mention of mentions) {
    const ticket = mention.clusterId ? openByCluster.get(mention.clusterId) : undefined;
    if (ticket !== undefined) attached.add(ticket);
    else if (!mention.clusterId || !seen.has(mention.clusterId)) opening.push(mention);
    if (mention.clusterId) seen.add(mention.clusterId);
  }
  if (attached.size > 0) await trx.updateTable('tickets').set({ updated_at: now }).where('id', 'in', [...attached]).execute();
  return opening;
}

/**
 * Opens the ticket a person asked for by marking a stored mention actionable: routed to its target's team,
 * with the same outbox and alerts as a crawl's. Returns false when the mention already has a ticket, or its
 * story has an open one (it attaches to that).
 */
export async function openTicketForMention(trx: Db, mentionId: string, ctx: { policy: TicketPolicy; now: Date }): Promise<boolean> {
  const found = await trx
    .selectFrom('mentions as m')
    .innerJoin('brands as b', 'b.id', 'm.brand_id')
    .leftJoin('targets as t', 't.id', 'm.target_id')
    .selectAll('m')
    .select(['b.name as brand_name', 't.team as team'])
    .where('m.id', '=', mentionId)
    .executeTakeFirst();
  if (!found) return false;
  const { id, brand_name, team, search: _search, ...mention } = found;
  const row: NewMention = {
    ...mention,
    author: JSON.stringify(mention.author),
    metrics: JSON.stringify(mention.metrics),
    reply: JSON.stringify(mention.reply),
    details: JSON.stringify(mention.details),
  };
  return (await openTickets(trx, [{ id, row, clusterId: mention.cluster_id }], { brandNames: new Map([[mention.brand_id, brand_name]]), policy: ctx.policy, now: ctx.now, team })) > 0;
}

const URGENT_REASONS = new Set(['safety', 'legal_threat', 'fraud_claim']);

/** Safety, legal and fraud claims and 1★ reviews first; a thank-you for praise last. */
function ticketPriority(row: NewMention): 'high' | 'normal' | 'low' {
  const reasons = row.action_reasons ?? [];
  if ((row.rating !== null && row.rating !== undefined && row.rating <= 1) || reasons.some((r) => URGENT_REASONS.has(r))) return 'high';
  if (reasons.length > 0 && reasons.every((r) => r === 'praise')) return 'low';
  return 'normal';
}

function ticketTitle(row: NewMention): string {
  const label = row.rating ? `${row.rating}★` : row.sentiment;
  const author = JSON.parse(row.author) as { name?: string | null };
  const text = row.title ? `${row.title}: ${row.text}` : row.text;
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
    author: JSON.parse(row.author) as unknown,
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
