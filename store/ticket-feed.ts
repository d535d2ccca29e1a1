import { jsonArrayFrom } from 'kysely/helpers/postgres';
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
  return { hasMore: rows.length > query.limit, tickets: toRecords(page) };
}

/** The latest changed tickets first (by seq), for a person at a terminal. */
export async function listRecentTickets(db: Db, query: { limit: number; status?: TicketStatus | undefined }): Promise<TicketRecord[]> {
  let select = selectTickets(db).orderBy('t.seq', 'desc').limit(query.limit);
  if (query.status !== undefined) select = select.where('t.status', '=', query.status);
  return toRecords(await select.execute());
}

/** Tickets by id, in the order asked; unknown ids are left out. */
export async function getTicketRecords(db: Db, ids: readonly string[]): Promise<TicketRecord[]> {
  if (ids.length === 0) return [];
  const rows = await selectTickets(db).where('t.id', 'in', [...ids]).execute();
  const byId = new Map(rows.map((row) => [row.id, row]));
  return toRecords(ids.flatMap((id) => byId.get(id) ?? []));
}

/**
 * The tickets with their brand and story, and each one's helpdesk links and deliveries as JSON arrays read through
 * the ticket's key in each table: one round trip per page. Read apart, by a list of a hundred ids, the links went
 * through a sequential scan (PostgreSQL prefers one for so many keys scattered over the table).
 */
function selectTickets(db: Db) {
  return db
    .selectFrom('tickets as t')
    .innerJoin('brands as b', 'b.id', 't.brand_id')
    .leftJoin('clusters as c', 'c.id', 't.cluster_id')
    .selectAll('t')
    .select((eb) => [
      'b.name as brand', 'c.size as cluster_size', 'c.sources as cluster_sources',
      'c.first_seen_at as cluster_first_seen_at', 'c.last_seen_at as cluster_last_seen_at',
      jsonArrayFrom(
        eb.selectFrom('ticket_links as l')
          .select(['l.helpdesk_id as helpdeskId', 'l.external_id as externalId', 'l.external_status as externalStatus'])
          .whereRef('l.ticket_id', '=', 't.id')
          .orderBy('l.helpdesk_id'),
      ).as('links'),
      jsonArrayFrom(
        eb.selectFrom('outbox as o')
          .select([
            'o.destination_kind as destinationKind', 'o.destination_id as destinationId', 'o.event_type as eventType', 'o.status',
            'o.attempts', 'o.last_status as lastStatus', 'o.last_error as lastError', 'o.delivered_at as deliveredAt',
          ])
          .whereRef('o.ticket_id', '=', 't.id')
          .orderBy('o.id'),
      ).as('deliveries'),
    ]);
}

type SelectedTicket = Awaited<ReturnType<ReturnType<typeof selectTickets>['execute']>>[number];

function toRecords(page: readonly SelectedTicket[]): TicketRecord[] {
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
    links: row.links,
    // JSON carries the delivery time as text.
    deliveries: row.deliveries.map((d) => ({ ...d, deliveredAt: d.deliveredAt === null ? null : new Date(d.deliveredAt) })),
  }));
}
