import type { Db } from './connect.ts';
import type { OutboxStatus, SlaMetric, TicketPriority, TicketStatus } from './schema.ts';

export interface TicketFeedQuery {
  /** Only tickets with a seq above this one ("0" from the start). */
  afterSeq: string;
  limit: number;
  status?: TicketStatus | undefined;
}

export interface TicketDelivery {
  destinationKind: 'helpdesk' | 'channel';
  destinationId: string;
  eventType: string;
  status: OutboxStatus;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  deliveredAt: Date | null;
}

export interface TicketCluster {
  id: string;
  size: number;
  sources: string[];
  firstSeenAt: Date;
  lastSeenAt: Date;
}

/** A ticket as stored, with its brand, story, helpdesk links and deliveries; its mention is read apart. */
export interface TicketRecord {
  id: string;
  seq: string;
  version: number;
  status: TicketStatus;
  statusReason: string | null;
  priority: TicketPriority;
  team: string;
  assignee: string | null;
  title: string;
  brand: string;
  brandId: number;
  routedBy: string | null;
  helpdesks: string[] | null;
  channels: string[] | null;
  mentionId: string;
  createdAt: Date;
  updatedAt: Date;
  firstResponseAt: Date | null;
  solvedAt: Date | null;
  firstResponseDueAt: Date | null;
  resolutionDueAt: Date | null;
  slaPausedAt: Date | null;
  slaBreached: SlaMetric[];
  /** The story the ticket stands for: every copy of it attaches here. Null for tickets older than clusters. */
  cluster: TicketCluster | null;
  /** The helpdesks' own ids of this ticket. */
  links: { helpdeskId: string; externalId: string; externalStatus: string | null }[];
  deliveries: TicketDelivery[];
}

/**
 * The helpdesk change feed, in seq order. Every change takes a new seq under an advisory lock held by the
 * writing transaction, so seq order is commit order and `seq > afterSeq` neither skips nor repeats; a
 * ticket shows once, as it is now, at the seq of its latest change.
 */
export async function listTicketFeed(db: Db, query: TicketFeedQuery): Promise<{ tickets: TicketRecord[]; hasMore: boolean }> {
  let select = selectTickets(db).where('t.seq', '>', query.afterSeq).orderBy('t.seq', 'asc').limit(query.limit + 1);
  if (query.status !== undefined) select = select.where('t.status', '=', query.status);
  const rows = await select.execute();
  const page = rows.slice(0, query.limit);
  return { hasMore: rows.length > query.limit, tickets: await withLinksAndDeliveries(db, page) };
}

/** The latest changed tickets first (by seq), for a person at a terminal. */
export async function listRecentTickets(db: Db, query: { limit: number; status?: TicketStatus | undefined }): Promise<TicketRecord[]> {
  let select = selectTickets(db).orderBy('t.seq', 'desc').limit(query.limit);
  if (query.status !== undefined) select = select.where('t.status', '=', query.status);
  return withLinksAndDeliveries(db, await select.execute());
}

/** Tickets by id, in the order asked; unknown ids are left out. */
export async function getTicketRecords(db: Db, ids: readonly string[]): Promise<TicketRecord[]> {
  if (ids.length === 0) return [];
  const rows = await selectTickets(db).where('t.id', 'in', [...ids]).execute();
  const byId = new Map(rows.map((row) => [row.id, row]));
  return withLinksAndDeliveries(db, ids.flatMap((id) => byId.get(id) ?? []));
}

function selectTickets(db: Db) {
  return db
    .selectFrom('tickets as t')
    .innerJoin('brands as b', 'b.id', 't.brand_id')
    .leftJoin('clusters as c', 'c.id', 't.cluster_id')
    .selectAll('t')
    .select([
      'b.name as brand', 'c.size as cluster_size', 'c.sources as cluster_sources',
      'c.first_seen_at as cluster_first_seen_at', 'c.last_seen_at as cluster_last_seen_at',
    ]);
}

type SelectedTicket = Awaited<ReturnType<ReturnType<typeof selectTickets>['execute']>>[number];

async function withLinksAndDeliveries(db: Db, page: readonly SelectedTicket[]): Promise<TicketRecord[]> {
  const deliveries = new Map<string, TicketDelivery[]>();
  const links = new Map<string, TicketRecord['links']>();
  if (page.length > 0) {
    const ids = page.map((row) => row.id);
    const [outbox, linked] = await Promise.all([
      db
        .selectFrom('outbox')
        .select(['ticket_id', 'destination_kind', 'destination_id', 'event_type', 'status', 'attempts', 'last_status', 'last_error', 'delivered_at'])
        .where('ticket_id', 'in', ids)
        .orderBy('id')
        .execute(),
      db.selectFrom('ticket_links').selectAll().where('ticket_id', 'in', ids).orderBy('helpdesk_id').execute(),
    ]);
    for (const row of outbox) {
      const list = deliveries.get(row.ticket_id!) ?? [];
      list.push({
        destinationKind: row.destination_kind,
        destinationId: row.destination_id,
        eventType: row.event_type,
        status: row.status,
        attempts: row.attempts,
        lastStatus: row.last_status,
        lastError: row.last_error,
        deliveredAt: row.delivered_at,
      });
      deliveries.set(row.ticket_id!, list);
    }
    for (const row of linked) {
      const list = links.get(row.ticket_id) ?? [];
      list.push({ helpdeskId: row.helpdesk_id, externalId: row.external_id, externalStatus: row.external_status });
      links.set(row.ticket_id, list);
    }
  }
  return page.map((row) => ({
    id: row.id,
    seq: row.seq,
    version: row.version,
    status: row.status,
    statusReason: row.status_reason,
    priority: row.priority,
    team: row.team,
    assignee: row.assignee,
    title: row.title,
    brand: row.brand,
    brandId: row.brand_id,
    routedBy: row.routed_by,
    helpdesks: row.helpdesks,
    channels: row.channels,
    mentionId: row.mention_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    firstResponseAt: row.first_response_at,
    solvedAt: row.solved_at,
    firstResponseDueAt: row.first_response_due_at,
    resolutionDueAt: row.resolution_due_at,
    slaPausedAt: row.sla_paused_at,
    slaBreached: row.sla_breached,
    cluster:
      row.cluster_id === null
        ? null
        : { id: row.cluster_id, size: row.cluster_size!, sources: row.cluster_sources!, firstSeenAt: row.cluster_first_seen_at!, lastSeenAt: row.cluster_last_seen_at! },
    links: links.get(row.id) ?? [],
    deliveries: deliveries.get(row.id) ?? [],
  }));
}
