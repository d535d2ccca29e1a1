import { sql, type RawBuilder } from 'kysely';
import type { ActionReason } from '../sentiment/types.ts';
import { inTransaction, type Db } from './connect.ts';
import { getMentions, type MentionListItem } from './mention-list.ts';
import { OPEN_TICKET_STATUSES, type SentimentLabel, type SlaMetric, type TicketPriority, type TicketStatus } from './schema.ts';

// The triage inbox: the list an agent works through, one item per row. `needs_reply` and `tickets` are lists of
// tickets, each shown by the mention that opened it; `mentions` is every stored mention with its ticket.

export const INBOX_VIEWS = ['needs_reply', 'tickets', 'mentions'] as const;
export type InboxView = (typeof INBOX_VIEWS)[number];
export const INBOX_SORTS = ['priority', 'newest'] as const;
export type InboxSort = (typeof INBOX_SORTS)[number];

export interface InboxFilter {
  view: InboxView;
  /** Ticket statuses; in `needs_reply` only the open ones among them count. */
  statuses?: readonly TicketStatus[] | undefined;
  /** A brand the mention names (any of its brands, as the mention list's ?brand=). */
  brand?: string | undefined;
  source?: string | undefined;
  target?: string | undefined;
  /** The ticket's team. */
  team?: string | undefined;
  sentiments?: readonly SentimentLabel[] | undefined;
  lang?: string | undefined;
  reason?: ActionReason | undefined;
  /** The ticket's assignee: nobody, or exactly this one. */
  assignee?: { none: true } | { is: string } | undefined;
  /** On the mention's instant, coalesce(published_at, first_seen_at): at or after `since`, before `until`. */
  since?: Date | undefined;
  until?: Date | undefined;
  /** Words matched by the mentions' Russian full-text index over title and text (web search syntax). */
  q?: string | undefined;
}

/**
 * Where a page ended. `newest` pages by mention id; `priority` by the priority's rank (0 urgent … 3 low, 4 no
 * ticket), the first-response deadline (null: none, sorted last) and the item's id: the ticket's in the ticket
 * views, the mention's in `mentions`. Deadlines are written from JS dates, so a Date carries them exactly.
 */
export type InboxCursor = { sort: 'newest'; id: string } | { sort: 'priority'; rank: number; dueAt: Date | null; id: string };

export interface InboxQuery extends InboxFilter {
  sort: InboxSort;
  limit: number;
  after?: InboxCursor | undefined;
}

/** What an inbox row shows of a ticket. */
export interface InboxTicket {
  id: string;
  status: TicketStatus;
  priority: TicketPriority;
  team: string;
  assignee: string | null;
  version: number;
  firstResponseDueAt: Date | null;
  resolutionDueAt: Date | null;
  slaBreached: SlaMetric[];
  slaPausedAt: Date | null;
  createdAt: Date;
}

export interface InboxItem {
  mention: MentionListItem;
  ticket: InboxTicket | null;
  /** The cursor that continues after this item. */
  cursor: InboxCursor;
}

// Written exactly as the expression index tickets_inbox_priority_idx (migration 0012) has them.
const RANK = sql<number>`(CASE t.priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END)`;
const DUE = sql<Date>`coalesce(t.first_response_due_at, 'infinity'::timestamptz)`;
const OPEN = sql.join(OPEN_TICKET_STATUSES.map((s) => sql.lit(s)));
const NO_TICKET_RANK = 4;

// A mention's ticket: its story's open ticket, else the newest of its story's (or, without a story, its own).
// Both ways in are indexed: tickets.mention_id is unique, tickets_cluster_idx keeps every status.
function ticketOfMention(mention: RawBuilder<unknown>) {
  return sql`
    SELECT t0.* FROM tickets t0
    WHERE t0.mention_id = ${mention}.id OR t0.cluster_id = ${mention}.cluster_id
    ORDER BY (t0.status IN (${OPEN})) DESC, t0.id DESC
    LIMIT 1`;
}

const TICKET_COLUMNS = sql`
  t.id AS t_id, t.status AS t_status, t.priority AS t_priority, t.team AS t_team, t.assignee AS t_assignee,
  t.version AS t_version, t.first_response_due_at AS t_first_response_due_at, t.resolution_due_at AS t_resolution_due_at,
  t.sla_breached AS t_sla_breached, t.sla_paused_at AS t_sla_paused_at, t.created_at AS t_created_at`;

interface TicketColumns {
  t_id: string | null;
  t_status: TicketStatus;
  t_priority: TicketPriority;
  t_team: string;
  t_assignee: string | null;
  t_version: number;
  t_first_response_due_at: Date | null;
  t_resolution_due_at: Date | null;
  t_sla_breached: SlaMetric[];
  t_sla_paused_at: Date | null;
  t_created_at: Date;
}

type PageRow = { mention_id: string; rank: number } & TicketColumns;

/**
 * How far the inbox counts the items that match: past it, "1,000+". An exact count of every mention reads the whole
 * store on every page (a million rows); counting up to the cap reads at most as much as twenty pages do.
 */
export const INBOX_COUNT_CAP = 1000;

/**
 * One page of the inbox, and how many items match the filters in all, up to INBOX_COUNT_CAP (`totalExact` false:
 * more). Keyset paging: an item arriving or changing between two pages neither shifts nor repeats the others.
 */
export async function listInbox(
  db: Db,
  query: InboxQuery,
): Promise<{ items: InboxItem[]; hasMore: boolean; total: number; totalExact: boolean }> {
  const ticketView = query.view !== 'mentions';
  // In the ticket views a ticket's mention is t.mention_id: the mentions are joined only to filter on them.
  const mentionId = ticketView ? sql`t.mention_id` : sql`m.id`;
  const rank = ticketView ? RANK : sql<number>`(CASE WHEN t.id IS NULL THEN ${sql.lit(NO_TICKET_RANK)} ELSE ${RANK} END)`;
  const key = ticketView ? sql`t.id` : sql`m.id`;
  const filters = filterConditions(query);
  const readPage = async (trx: Db, where: RawBuilder<unknown>[], order: RawBuilder<unknown>, limit: number) => {
    const { rows } = await sql<PageRow>`
      SELECT ${mentionId} AS mention_id, ${rank} AS rank, ${TICKET_COLUMNS}
      FROM ${fromClause(query, true)}
      WHERE ${sql.join([...filters, ...where], sql` AND `)}
      ORDER BY ${order}
      LIMIT ${limit}
    `.execute(trx);
    return rows;
  };
  const want = query.limit + 1;
  const after = query.after;
  const afterPriority = after?.sort === 'priority'
    ? [sql`(${rank}, ${DUE}, ${key}) > (${after.rank}, ${after.dueAt === null ? 'infinity' : after.dueAt.toISOString()}::timestamptz, ${after.id})`]
    : [];
  const { page, total, mentions } = await inTransaction(db, async (trx) => {
    // A ticket found per mention makes the planner's cost estimates large, past jit_above_cost: PostgreSQL then
    // spends a second or two compiling a query that runs in milliseconds. LOCAL: this transaction only.
    await sql`SET LOCAL jit = off`.execute(trx);
    let rows: PageRow[];
    if (query.sort === 'newest') {
      rows = await readPage(trx, after?.sort === 'newest' ? [sql`${mentionId} < ${after.id}`] : [], sql`${mentionId} DESC`, want);
    } else if (ticketView) {
      rows = await readPage(trx, afterPriority, sql`${rank}, ${DUE}, ${key}`, want);
    } else {
      // Every mention by priority, in two runs: those with a ticket by priority (found only for them), then
      // those without one, which all sort last, by id from the primary key.
      rows = [];
      if (after?.sort !== 'priority' || after.rank < NO_TICKET_RANK) {
        const related = hasTicketFilter(query) ? [] : [relatedToTickets([])];
        rows = await readPage(trx, [...related, ...afterPriority], sql`${rank}, ${DUE}, ${key}`, want);
      }
      if (rows.length < want && !hasTicketFilter(query)) {
        const from = after?.sort === 'priority' && after.rank === NO_TICKET_RANK ? [sql`m.id > ${after.id}`] : [];
        rows.push(...(await readPage(trx, [sql`NOT ${relatedToTickets([])}`, ...from], sql`m.id`, want - rows.length)));
      }
    }
    const shown = rows.slice(0, query.limit);
    const mentions = await getMentions(trx, shown.map((r) => r.mention_id));
    return { page: rows, mentions, total: await countInbox(trx, query) };
  });
  const rows = page.slice(0, query.limit);
  const items = rows.flatMap((row): InboxItem[] => {
    const mention = mentions.get(row.mention_id);
    if (!mention) return [];
    const ticket = toTicket(row);
    const cursor: InboxCursor = query.sort === 'newest'
      ? { sort: 'newest', id: row.mention_id }
      : { sort: 'priority', rank: Number(row.rank), dueAt: ticket?.firstResponseDueAt ?? null, id: ticketView ? ticket!.id : row.mention_id };
    return [{ mention, ticket, cursor }];
  });
  return { items, hasMore: page.length > query.limit, total: Math.min(total, INBOX_COUNT_CAP), totalExact: total <= INBOX_COUNT_CAP };
}

/**
 * How many items match, counting no further than one past the cap, newest first as a page of the `newest` sort
 * reads them: through the same indexes, never a hash of every row of a brand or a status.
 */
async function countInbox(db: Db, filter: InboxFilter): Promise<number> {
  // A mention has at most one ticket here, and a ticket one mention: joins that filter nothing are left out.
  const key = filter.view === 'mentions' ? sql`m.id` : sql`t.id`;
  // Newest first through the key's index, each row's other tables looked up by theirs: the planner, sure that few
  // rows match, would rather hash all of a brand's links or sort all of a sentiment's mentions, whose cost grows
  // with the store. LOCAL: the rest of this transaction; the caller counts last.
  await sql`SELECT set_config('enable_sort', 'off', true), set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true)`.execute(db);
  const { rows } = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM (
      SELECT 1 FROM ${fromClause(filter, false)} WHERE ${sql.join(filterConditions(filter), sql` AND `)}
      ORDER BY ${key} DESC LIMIT ${INBOX_COUNT_CAP + 1}
    ) matching
  `.execute(db);
  return rows[0]!.n;
}

function hasTicketFilter(f: InboxFilter): boolean {
  return f.statuses !== undefined || f.team !== undefined || f.assignee !== undefined;
}

function hasMentionFilter(f: InboxFilter): boolean {
  return [f.brand, f.source, f.target, f.sentiments, f.lang, f.reason, f.since, f.until, f.q].some((v) => v !== undefined);
}

/** What the rows come from: what the filters need, and for a page of the mentions view each mention's ticket. */
function fromClause(f: InboxFilter, page: boolean) {
  if (f.view !== 'mentions') return hasMentionFilter(f) ? sql`tickets t JOIN mentions m ON m.id = t.mention_id` : sql`tickets t`;
  return page || hasTicketFilter(f) ? sql`mentions m LEFT JOIN LATERAL (${ticketOfMention(sql`m`)}) t ON true` : sql`mentions m`;
}

function filterConditions(f: InboxFilter): RawBuilder<unknown>[] {
  const where: RawBuilder<unknown>[] = [sql`true`];
  if (f.view === 'needs_reply') where.push(sql`t.status IN (${OPEN})`);
  const ticket = ticketConditions(f, sql`t`);
  where.push(...ticket);
  // Only a mention related to a ticket that passes can have its ticket pass: a hashed look-up per mention first,
  // and each one's ticket found only for those.
  if (f.view === 'mentions' && ticket.length > 0) where.push(relatedToTickets(ticketConditions(f, sql`t1`)));
  if (f.brand !== undefined) {
    // Through the links' (brand_id, mention_id) key: every brand the mention names, as the mention list.
    where.push(sql`m.id IN (SELECT mb.mention_id FROM mention_brands mb WHERE mb.brand_id = (SELECT b.id FROM brands b WHERE b.name = ${f.brand}))`);
  }
  if (f.source !== undefined) where.push(sql`m.source = ${f.source}`);
  if (f.target !== undefined) where.push(sql`m.target_id = ${f.target}`);
  if (f.sentiments !== undefined) where.push(sql`m.sentiment IN (${sql.join([...f.sentiments])})`);
  if (f.lang !== undefined) where.push(sql`m.lang = ${f.lang}`);
  if (f.reason !== undefined) where.push(sql`m.action_reasons @> ARRAY[${f.reason}]::text[]`);
  if (f.since !== undefined) where.push(sql`coalesce(m.published_at, m.first_seen_at) >= ${f.since}`);
  if (f.until !== undefined) where.push(sql`coalesce(m.published_at, m.first_seen_at) < ${f.until}`);
  // The generated tsvector of migration 0001 and its GIN index: stemmed Russian words, English ones too.
  if (f.q !== undefined) where.push(sql`m.search @@ websearch_to_tsquery('russian', ${f.q})`);
  return where;
}

/**
 * The mention is related to a ticket (t1) that meets the conditions: it opened it, or it is of its story. The same
 * relation as ticketOfMention's, so a mention is related to some ticket exactly when it has one. Never null.
 */
function relatedToTickets(conditions: RawBuilder<unknown>[]): RawBuilder<unknown> {
  const passing = sql.join([sql`true`, ...conditions], sql` AND `);
  return sql`(m.id IN (SELECT t1.mention_id FROM tickets t1 WHERE ${passing})
    OR (m.cluster_id IS NOT NULL AND m.cluster_id IN (SELECT t1.cluster_id FROM tickets t1 WHERE t1.cluster_id IS NOT NULL AND ${passing})))`;
}

/** The filters on the item's ticket, over the ticket alias given; none when the query has none. */
function ticketConditions(f: InboxFilter, t: RawBuilder<unknown>): RawBuilder<unknown>[] {
  const where: RawBuilder<unknown>[] = [];
  if (f.statuses !== undefined) where.push(sql`${t}.status IN (${sql.join([...f.statuses])})`);
  if (f.team !== undefined) where.push(sql`${t}.team = ${f.team}`);
  if (f.assignee !== undefined) {
    where.push('none' in f.assignee ? sql`${t}.id IS NOT NULL AND ${t}.assignee IS NULL` : sql`${t}.assignee = ${f.assignee.is}`);
  }
  return where;
}

function toTicket(row: TicketColumns): InboxTicket | null {
  if (row.t_id === null) return null;
  return {
    id: row.t_id,
    status: row.t_status,
    priority: row.t_priority,
    team: row.t_team,
    assignee: row.t_assignee,
    version: row.t_version,
    firstResponseDueAt: row.t_first_response_due_at,
    resolutionDueAt: row.t_resolution_due_at,
    slaBreached: row.t_sla_breached,
    slaPausedAt: row.t_sla_paused_at,
    createdAt: row.t_created_at,
  };
}

/**
 * The ticket of each mention, as the inbox shows it: its story's open ticket, else the newest of its story's
 * tickets (its own, when it has no story). Mentions without one, and ids of no mention, are absent.
 */
export async function findInboxTicketsOfMentions(db: Db, mentionIds: readonly string[]): Promise<Map<string, InboxTicket>> {
  if (mentionIds.length === 0) return new Map();
  const { rows } = await sql<{ mention_id: string } & TicketColumns>`
    SELECT m.id AS mention_id, ${TICKET_COLUMNS}
    FROM mentions m CROSS JOIN LATERAL (${ticketOfMention(sql`m`)}) t
    WHERE m.id IN (${sql.join([...mentionIds])})
  `.execute(db);
  return new Map(rows.map((row) => [row.mention_id, toTicket(row)!]));
}

/** Where the store is: the newest mention and the latest ticket change ("0" when none), each one index probe. */
export async function readInboxWatermark(db: Db): Promise<{ mentionId: string; ticketSeq: string }> {
  const { rows } = await sql<{ mention_id: string | null; ticket_seq: string | null }>`
    SELECT (SELECT max(id) FROM mentions) AS mention_id, (SELECT max(seq) FROM tickets) AS ticket_seq
  `.execute(db);
  return { mentionId: rows[0]?.mention_id ?? '0', ticketSeq: rows[0]?.ticket_seq ?? '0' };
}
