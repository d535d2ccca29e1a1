import { sql, type Selectable } from 'kysely';
import type { Db } from './connect.ts';
import type { MentionInput } from './mentions.ts';
import type { TicketStatus, TicketTable } from './schema.ts';

export type TicketRow = Selectable<TicketTable>;

const OPEN_STATUSES: readonly TicketStatus[] = ['new', 'open', 'pending'];

// Held until commit: tickets get their seq in commit order, so the pull API's `seq > cursor` never skips.
const TICKET_SEQ_LOCK = 7262001;

/** Serializes ticket writers until the transaction ends; see TICKET_SEQ_LOCK. */
export async function lockTicketSeq(trx: Db): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(${TICKET_SEQ_LOCK})`.execute(trx);
}

/** The open ticket of each cluster that has one, by cluster id. */
export async function findOpenTicketsOfClusters(trx: Db, clusterIds: readonly string[]): Promise<Map<string, string>> {
  if (clusterIds.length === 0) return new Map();
  const rows = await trx
    .selectFrom('tickets')
    .select(['id', 'cluster_id'])
    .where('cluster_id', 'in', [...clusterIds])
    .where('status', 'in', OPEN_STATUSES)
    .execute();
  return new Map(rows.map((t) => [t.cluster_id!, t.id]));
}

export async function touchTickets(trx: Db, ticketIds: readonly string[], now: Date): Promise<void> {
  if (ticketIds.length === 0) return;
  await trx.updateTable('tickets').set({ updated_at: now }).where('id', 'in', [...ticketIds]).execute();
}

export interface NewTicket {
  mentionId: string;
  brandId: number;
  team: string;
  priority: 'high' | 'normal' | 'low';
  title: string;
  clusterId: string | null;
}

/**
 * Inserts tickets with their seq; a mention that already has a ticket, or a cluster that already has an open
 * one, is skipped by the unique indexes. Returns the rows written.
 */
export async function insertTickets(trx: Db, tickets: readonly NewTicket[], now: Date): Promise<TicketRow[]> {
  if (tickets.length === 0) return [];
  return trx
    .insertInto('tickets')
    .values(
      tickets.map((t) => ({
        seq: sql<string>`nextval('ticket_seq')`,
        mention_id: t.mentionId,
        brand_id: t.brandId,
        team: t.team,
        status: 'new' as const,
        priority: t.priority,
        title: t.title,
        created_at: now,
        updated_at: now,
        cluster_id: t.clusterId,
      })),
    )
    .onConflict((oc) => oc.doNothing())
    .returningAll()
    .execute();
}

/** A stored mention as opening its ticket needs it: the row, its brand's name and its target's team. */
export async function findMentionForTicket(
  db: Db,
  mentionId: string,
): Promise<{ id: string; row: MentionInput; clusterId: string | null; brandName: string; team: string | null } | undefined> {
  const found = await db
    .selectFrom('mentions as m')
    .innerJoin('brands as b', 'b.id', 'm.brand_id')
    .leftJoin('targets as t', 't.id', 'm.target_id')
    .selectAll('m')
    .select(['b.name as brand_name', 't.team as team'])
    .where('m.id', '=', mentionId)
    .executeTakeFirst();
  if (!found) return undefined;
  const { id, brand_name, team, search: _search, cluster_id, ...row } = found;
  return { id, row, clusterId: cluster_id, brandName: brand_name, team };
}
