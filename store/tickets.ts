import { sql, type Selectable, type Updateable } from 'kysely';
import type { Db } from './connect.ts';
import type { MentionInput } from './mentions.ts';
import { OPEN_TICKET_STATUSES, type SlaMetric, type TicketPriority, type TicketTable } from './schema.ts';

export type TicketRow = Selectable<TicketTable>;

// Held until commit: every ticket change takes its seq in commit order, so the feed's `seq > cursor` never skips.
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
    .where('status', 'in', OPEN_TICKET_STATUSES)
    .execute();
  return new Map(rows.map((t) => [t.cluster_id!, t.id]));
}

/** The open tickets that a mention opened or whose story it belongs to, by mention id. */
export async function findOpenTicketsOfMentions(trx: Db, mentionIds: readonly string[]): Promise<Map<string, string>> {
  if (mentionIds.length === 0) return new Map();
  const rows = await trx
    .selectFrom('mentions as m')
    .innerJoin('tickets as t', (join) =>
      join.on((eb) => eb.or([eb('t.mention_id', '=', eb.ref('m.id')), eb('t.cluster_id', '=', eb.ref('m.cluster_id'))])),
    )
    .select(['m.id as mention_id', 't.id as ticket_id'])
    .where('m.id', 'in', [...mentionIds])
    .where('t.status', 'in', OPEN_TICKET_STATUSES)
    .execute();
  return new Map(rows.map((r) => [r.mention_id, r.ticket_id]));
}

/** The open ticket a mention opened itself (not its story's); undefined when it has none. */
export async function findOpenTicketOpenedBy(trx: Db, mentionId: string): Promise<string | undefined> {
  const row = await trx
    .selectFrom('tickets')
    .select('id')
    .where('mention_id', '=', mentionId)
    .where('status', 'in', OPEN_TICKET_STATUSES)
    .executeTakeFirst();
  return row?.id;
}

export interface NewTicket {
  mentionId: string;
  brandId: number;
  team: string;
  priority: TicketPriority;
  title: string;
  clusterId: string | null;
  routedBy: string | null;
  helpdesks: readonly string[];
  channels: readonly string[];
  sla: {
    firstResponseDueAt: Date;
    resolutionDueAt: Date;
    firstResponseWarnAt: Date;
    resolutionWarnAt: Date;
  } | null;
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
        routed_by: t.routedBy,
        helpdesks: sql<string[]>`${[...t.helpdesks]}::text[]`,
        channels: sql<string[]>`${[...t.channels]}::text[]`,
        first_response_due_at: t.sla?.firstResponseDueAt ?? null,
        resolution_due_at: t.sla?.resolutionDueAt ?? null,
        first_response_warn_at: t.sla?.firstResponseWarnAt ?? null,
        resolution_warn_at: t.sla?.resolutionWarnAt ?? null,
      })),
    )
    .onConflict((oc) => oc.doNothing())
    .returningAll()
    .execute();
}

/** Tickets by id, locked for a change until the transaction ends. */
export async function lockTickets(trx: Db, ids: readonly string[]): Promise<TicketRow[]> {
  if (ids.length === 0) return [];
  return trx.selectFrom('tickets').selectAll().where('id', 'in', [...ids]).orderBy('id').forUpdate().execute();
}

export type TicketUpdate = Omit<Updateable<TicketTable>, 'id' | 'seq' | 'version' | 'mention_id' | 'brand_id' | 'created_at'>;

/** Writes a change: the fields, a new seq (the caller holds the seq lock) and the next version. */
export async function updateTicket(trx: Db, id: string, set: TicketUpdate, now: Date): Promise<TicketRow> {
  const { sla_warned, sla_breached, ...rest } = set;
  return trx
    .updateTable('tickets')
    .set({
      ...rest,
      ...(sla_warned ? { sla_warned: sql<SlaMetric[]>`${sla_warned}::text[]` } : {}),
      ...(sla_breached ? { sla_breached: sql<SlaMetric[]>`${sla_breached}::text[]` } : {}),
      seq: sql<string>`nextval('ticket_seq')`,
      version: sql<number>`version + 1`,
      updated_at: now,
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export interface TicketHistoryInput {
  ticketId: string;
  seq: string;
  version: number;
  kind: string;
  actor: string;
  changes: Record<string, unknown>;
  note: string | null;
  at: Date;
}

export async function insertTicketHistory(trx: Db, rows: readonly TicketHistoryInput[]): Promise<void> {
  if (rows.length === 0) return;
  await trx
    .insertInto('ticket_history')
    .values(
      rows.map((r) => ({
        ticket_id: r.ticketId, seq: r.seq, version: r.version, kind: r.kind, actor: r.actor,
        changes: JSON.stringify(r.changes), note: r.note, at: r.at,
      })),
    )
    .execute();
}

/** A ticket's history, oldest first; null when there is no such ticket. */
export async function listTicketHistory(db: Db, ticketId: string): Promise<TicketHistoryInput[] | null> {
  const exists = await db.selectFrom('tickets').select('id').where('id', '=', ticketId).executeTakeFirst();
  if (!exists) return null;
  const rows = await db.selectFrom('ticket_history').selectAll().where('ticket_id', '=', ticketId).orderBy('id').execute();
  return rows.map((r) => ({
    ticketId: r.ticket_id, seq: r.seq, version: r.version, kind: r.kind, actor: r.actor, changes: r.changes, note: r.note, at: r.at,
  }));
}

/** Keeps a helpdesk's own id (and last known status) of one of our tickets. */
export async function upsertTicketLink(
  db: Db,
  link: { ticketId: string; helpdeskId: string; externalId: string; externalStatus: string | null },
  now: Date,
): Promise<void> {
  await db
    .insertInto('ticket_links')
    .values({
      ticket_id: link.ticketId, helpdesk_id: link.helpdeskId, external_id: link.externalId,
      external_status: link.externalStatus, created_at: now, updated_at: now,
    })
    .onConflict((oc) =>
      oc.columns(['ticket_id', 'helpdesk_id']).doUpdateSet((eb) => ({
        external_id: eb.ref('excluded.external_id'),
        external_status: sql<string | null>`coalesce(excluded.external_status, ticket_links.external_status)`,
        updated_at: now,
      })),
    )
    .execute();
}

/** The link of one of our tickets at a helpdesk; undefined before the helpdesk has it. */
export async function findTicketLink(db: Db, ticketId: string, helpdeskId: string) {
  return db
    .selectFrom('ticket_links')
    .select(['external_id', 'external_status'])
    .where('ticket_id', '=', ticketId)
    .where('helpdesk_id', '=', helpdeskId)
    .executeTakeFirst();
}

/** Our ticket behind a helpdesk's ticket id, by the link or, before the link is known, by our id it echoes. */
export async function findTicketOfHelpdesk(
  db: Db,
  helpdeskId: string,
  externalId: string,
  ticketId: string | null,
): Promise<string | undefined> {
  const linked = await db
    .selectFrom('ticket_links')
    .select('ticket_id')
    .where('helpdesk_id', '=', helpdeskId)
    .where('external_id', '=', externalId)
    .executeTakeFirst();
  if (linked) return linked.ticket_id;
  if (ticketId === null || !/^[1-9][0-9]{0,18}$/.test(ticketId)) return undefined;
  const echoed = await db.selectFrom('tickets').select('id').where('id', '=', ticketId).executeTakeFirst();
  return echoed?.id;
}

/** Open tickets with an SLA warning or deadline due at `now`, not paused; the SLA sweep's work. */
export async function findTicketsWithDueSla(db: Db, now: Date, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('tickets')
    .select('id')
    .where('status', 'in', ['new', 'open', 'on_hold'])
    .where('sla_paused_at', 'is', null)
    .where((eb) =>
      eb.or(
        (['first_response', 'resolution'] as const).map((metric) => {
          const done = metric === 'first_response' ? 'first_response_at' : 'solved_at';
          const warnAt = metric === 'first_response' ? 'first_response_warn_at' : 'resolution_warn_at';
          const dueAt = metric === 'first_response' ? 'first_response_due_at' : 'resolution_due_at';
          return eb.and([
            eb(done, 'is', null),
            sql<boolean>`NOT (${metric} = ANY(sla_breached))`,
            eb.or([
              eb(dueAt, '<=', now),
              eb.and([eb(warnAt, '<=', now), sql<boolean>`NOT (${metric} = ANY(sla_warned))`]),
            ]),
          ]);
        }),
      ),
    )
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
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

/** A PATCH answer kept for its Idempotency-Key; undefined when the key is new. */
export async function findIdempotentAnswer(db: Db, apiKeyId: number, key: string) {
  return db
    .selectFrom('idempotency_keys')
    .select(['request_hash', 'status', 'response'])
    .where('api_key_id', '=', apiKeyId)
    .where('key', '=', key)
    .executeTakeFirst();
}

/**
 * Claims an Idempotency-Key for a request, in the caller's transaction; false when the key is taken (by an
 * earlier request, or one still running, which this waits for). Its answer is kept by `keepIdempotentAnswer`.
 */
export async function claimIdempotencyKey(
  trx: Db,
  claim: { apiKeyId: number; key: string; requestHash: string },
  now: Date,
): Promise<boolean> {
  const row = await trx
    .insertInto('idempotency_keys')
    .values({ api_key_id: claim.apiKeyId, key: claim.key, request_hash: claim.requestHash, status: 0, response: 'null', created_at: now })
    .onConflict((oc) => oc.columns(['api_key_id', 'key']).doNothing())
    .returning('key')
    .executeTakeFirst();
  return row !== undefined;
}

/** The answer of a claimed key, kept 24 hours (`pruneIdempotencyKeys`). */
export async function keepIdempotentAnswer(trx: Db, answer: { apiKeyId: number; key: string; status: number; response: unknown }): Promise<void> {
  await trx
    .updateTable('idempotency_keys')
    .set({ status: answer.status, response: JSON.stringify(answer.response) })
    .where('api_key_id', '=', answer.apiKeyId)
    .where('key', '=', answer.key)
    .execute();
}

export async function pruneIdempotencyKeys(db: Db, before: Date): Promise<void> {
  await db.deleteFrom('idempotency_keys').where('created_at', '<', before).execute();
}

