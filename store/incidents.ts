import { sql } from 'kysely';
import type { Db } from './connect.ts';
import type { IncidentTable } from './schema.ts';

// Crisis incidents, and the counts the detector reads. A mention's time is when it was published, but never
// later than when we first saw it (a clock in the future) and, for the detector, a backfilled old review stays in
// the past where it belongs instead of looking like a burst now.
const eventTime = sql<Date>`least(coalesce(m.published_at, m.first_seen_at), m.first_seen_at)`;
// Reach: the author's followers or the post's views, whichever is larger (a source gives one or the other).
const reach = sql<number | null>`greatest((m.author->>'followers')::float8, (m.metrics->>'views')::float8)`;
const authorKey = sql<string | null>`coalesce(m.author->>'id', m.author->>'handle', m.author->>'name')`;

export type IncidentRow = {
  id: string;
  brandId: number;
  brand: string;
  scope: string;
  status: IncidentTable['status'];
  severity: IncidentTable['severity'];
  openedAt: Date;
  escalatedAt: Date | null;
  escalationReason: IncidentTable['escalation_reason'];
  acknowledgedAt: Date | null;
  acknowledgedBy: string | null;
  resolvedAt: Date | null;
  resolvedBy: string | null;
  resolutionNote: string | null;
  state: Record<string, unknown>;
  explanation: Record<string, unknown>;
  updatedAt: Date;
  tickets: number;
};

function incidentQuery(db: Db) {
  return db
    .selectFrom('incidents as i')
    .innerJoin('brands as b', 'b.id', 'i.brand_id')
    .select((eb) => [
      'i.id', 'i.brand_id', 'b.name as brand', 'i.scope', 'i.status', 'i.severity', 'i.opened_at', 'i.escalated_at', 'i.escalation_reason',
      'i.acknowledged_at', 'i.acknowledged_by', 'i.resolved_at', 'i.resolved_by', 'i.resolution_note', 'i.state', 'i.explanation', 'i.updated_at',
      eb.selectFrom('tickets as t').select((e) => e.fn.countAll<string>().as('n')).whereRef('t.incident_id', '=', 'i.id').as('tickets'),
    ]);
}

type Selected = Awaited<ReturnType<ReturnType<typeof incidentQuery>['execute']>>[number];

function rowOf(r: Selected): IncidentRow {
  return {
    id: r.id, brandId: r.brand_id, brand: r.brand, scope: r.scope, status: r.status, severity: r.severity,
    openedAt: r.opened_at, escalatedAt: r.escalated_at, escalationReason: r.escalation_reason,
    acknowledgedAt: r.acknowledged_at, acknowledgedBy: r.acknowledged_by, resolvedAt: r.resolved_at, resolvedBy: r.resolved_by,
    resolutionNote: r.resolution_note, state: r.state, explanation: r.explanation, updatedAt: r.updated_at, tickets: Number(r.tickets ?? 0),
  };
}

export async function getIncident(db: Db, id: string): Promise<IncidentRow | undefined> {
  if (!/^\d{1,18}$/.test(id)) return undefined;
  const row = await incidentQuery(db).where('i.id', '=', id).executeTakeFirst();
  return row ? rowOf(row) : undefined;
}

/** The brand's latest incident of the scope, live or resolved: a re-trigger inside its cooldown reopens it. */
export async function findLatestIncident(db: Db, brandId: number, scope: string): Promise<IncidentRow | undefined> {
  const row = await incidentQuery(db).where('i.brand_id', '=', brandId).where('i.scope', '=', scope).orderBy('i.opened_at', 'desc').orderBy('i.id', 'desc').limit(1).executeTakeFirst();
  return row ? rowOf(row) : undefined;
}

export interface IncidentListFilter {
  status?: IncidentTable['status'] | 'live' | undefined;
  brandId?: number | undefined;
  beforeId?: string | undefined;
  limit: number;
}

/** Newest first; `live` is open or acknowledged. */
export async function listIncidents(db: Db, filter: IncidentListFilter): Promise<{ incidents: IncidentRow[]; hasMore: boolean }> {
  let query = incidentQuery(db).orderBy('i.id', 'desc').limit(filter.limit + 1);
  if (filter.status === 'live') query = query.where('i.status', '<>', 'resolved');
  else if (filter.status !== undefined) query = query.where('i.status', '=', filter.status);
  if (filter.brandId !== undefined) query = query.where('i.brand_id', '=', filter.brandId);
  if (filter.beforeId !== undefined) query = query.where('i.id', '<', filter.beforeId);
  const rows = await query.execute();
  return { incidents: rows.slice(0, filter.limit).map(rowOf), hasMore: rows.length > filter.limit };
}

export interface IncidentWrite {
  status: IncidentTable['status'];
  severity: IncidentTable['severity'];
  openedAt: Date;
  escalatedAt: Date | null;
  escalationReason: IncidentTable['escalation_reason'];
  acknowledgedAt: Date | null;
  acknowledgedBy?: string | null;
  resolvedAt: Date | null;
  resolvedBy?: string | null;
  resolutionNote?: string | null;
  state: Record<string, unknown>;
  explanation: Record<string, unknown>;
}

function columnsOf(w: IncidentWrite, now: Date) {
  return {
    status: w.status, severity: w.severity, opened_at: w.openedAt, escalated_at: w.escalatedAt, escalation_reason: w.escalationReason,
    acknowledged_at: w.acknowledgedAt, resolved_at: w.resolvedAt,
    ...(w.acknowledgedBy !== undefined ? { acknowledged_by: w.acknowledgedBy } : {}),
    ...(w.resolvedBy !== undefined ? { resolved_by: w.resolvedBy } : {}),
    ...(w.resolutionNote !== undefined ? { resolution_note: w.resolutionNote } : {}),
    state: JSON.stringify(w.state), explanation: JSON.stringify(w.explanation), updated_at: now,
  };
}

/** A new incident; null when the brand already has a live one of the scope (another worker opened it first). */
export async function insertIncident(trx: Db, incident: IncidentWrite & { brandId: number; scope: string }, now: Date): Promise<string | null> {
  const row = await trx
    .insertInto('incidents')
    .values({ brand_id: incident.brandId, scope: incident.scope, ...columnsOf(incident, now) })
    .onConflict((oc) => oc.columns(['brand_id', 'scope']).where('status', '<>', 'resolved').doNothing())
    .returning('id')
    .executeTakeFirst();
  return row?.id ?? null;
}

/** Writes the incident if it is still as `expectedUpdatedAt` left it (no other writer came between). */
export async function updateIncident(trx: Db, id: string, incident: IncidentWrite, now: Date, expectedUpdatedAt?: Date): Promise<boolean> {
  let query = trx.updateTable('incidents').set(columnsOf(incident, now)).where('id', '=', id);
  if (expectedUpdatedAt) query = query.where('updated_at', '=', expectedUpdatedAt);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Past incidents of the brand since `from`: their spans stay out of the detector's baseline. */
export async function incidentSpans(db: Db, brandId: number, from: Date, now: Date): Promise<{ from: number; to: number }[]> {
  const rows = await db
    .selectFrom('incidents')
    .select(['opened_at', 'resolved_at'])
    .where('brand_id', '=', brandId)
    .where((eb) => eb.or([eb('resolved_at', 'is', null), eb('resolved_at', '>=', from)]))
    .execute();
  return rows.map((r) => ({ from: r.opened_at.getTime(), to: (r.resolved_at ?? now).getTime() }));
}

export interface HourCount {
  start: number;
  all: number;
  negative: number;
  reach: number;
}

/** Per UTC hour from `from` to `to` (exclusive): all mentions of the brand, negative ones and their reach. */
export async function hourlyCounts(db: Db, brandId: number, from: Date, to: Date): Promise<HourCount[]> {
  // Hours as epoch seconds: no session time zone can shift them.
  const rows = await sql<{ hour: string; all: string; negative: string; reach: number | null }>`
    SELECT (floor(extract(epoch FROM ${eventTime}) / 3600) * 3600)::bigint AS hour,
           count(*) AS all,
           count(*) FILTER (WHERE m.sentiment = 'negative') AS negative,
           sum(${reach}) FILTER (WHERE m.sentiment = 'negative') AS reach
    FROM mention_brands mb JOIN mentions m ON m.id = mb.mention_id
    WHERE mb.brand_id = ${brandId} AND m.first_seen_at >= ${from} AND ${eventTime} >= ${from} AND ${eventTime} < ${to}
    GROUP BY 1 ORDER BY 1`.execute(db);
  return rows.rows.map((r) => ({
    start: Number(r.hour) * 1000,
    all: Number(r.all), negative: Number(r.negative), reach: Number(r.reach ?? 0),
  }));
}

export interface CrisisMention {
  id: string;
  at: Date;
  negative: boolean;
  author: string | null;
  story: string | null;
  reach: number | null;
  source: string;
  lang: string;
  url: string | null;
  text: string;
  title: string | null;
}

/** The brand's mentions from `from` to `to`, oldest first; `negativeOnly` for the long windows. */
export async function crisisMentions(db: Db, brandId: number, from: Date, to: Date, opts: { negativeOnly: boolean; withText: boolean }): Promise<CrisisMention[]> {
  const rows = await sql<{ id: string; at: Date; sentiment: string; author: string | null; story: string | null; reach: number | null; source: string; lang: string; url: string | null; text: string | null; title: string | null }>`
    SELECT m.id, ${eventTime} AS at, m.sentiment, ${authorKey} AS author, m.cluster_id AS story, ${reach} AS reach, m.source, m.lang,
           m.url, ${opts.withText ? sql`m.text` : sql`NULL`} AS text, ${opts.withText ? sql`m.title` : sql`NULL`} AS title
    FROM mention_brands mb JOIN mentions m ON m.id = mb.mention_id
    WHERE mb.brand_id = ${brandId} AND m.first_seen_at >= ${from} AND ${eventTime} >= ${from} AND ${eventTime} <= ${to}
      ${opts.negativeOnly ? sql`AND m.sentiment = 'negative'` : sql``}
    ORDER BY 2, 1`.execute(db);
  return rows.rows.map((r) => ({
    id: r.id, at: r.at, negative: r.sentiment === 'negative', author: r.author, story: r.story,
    reach: r.reach === null ? null : Number(r.reach), source: r.source, lang: r.lang, url: r.url, text: r.text ?? '', title: r.title,
  }));
}

/** When the brand's history starts: its first stored mention. */
export async function brandHistoryStart(db: Db, brandId: number): Promise<Date | null> {
  const row = await sql<{ at: Date | null }>`
    SELECT min(m.first_seen_at) AS at FROM mention_brands mb JOIN mentions m ON m.id = mb.mention_id WHERE mb.brand_id = ${brandId}`.execute(db);
  return row.rows[0]?.at ?? null;
}

/**
 * Links the brand's open negative tickets created since `since` to the incident: the team hears of them in the
 * incident's card, not one by one. Returns how many were linked.
 */
export async function linkTicketsToIncident(trx: Db, incidentId: string, brandId: number, since: Date): Promise<number> {
  const result = await trx
    .updateTable('tickets')
    .set({ incident_id: incidentId })
    .where('incident_id', 'is', null)
    .where('brand_id', '=', brandId)
    .where('created_at', '>=', since)
    .where('status', 'in', ['new', 'open', 'pending', 'on_hold'])
    .where('mention_id', 'in', (eb) => eb.selectFrom('mentions').select('id').where('sentiment', '=', 'negative').where('first_seen_at', '>=', since))
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** The live incident (open or acknowledged) of each ticket that has one. */
export async function liveIncidentsOfTickets(db: Db, ticketIds: readonly string[]): Promise<Map<string, string>> {
  if (ticketIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('tickets as t')
    .innerJoin('incidents as i', 'i.id', 't.incident_id')
    .select(['t.id', 'i.id as incident_id'])
    .where('t.id', 'in', ticketIds)
    .where('i.status', '<>', 'resolved')
    .execute();
  return new Map(rows.map((r) => [r.id, r.incident_id]));
}

/** The live incident (any scope; the oldest) of each brand that has one, to link tickets opening during it. */
export async function liveIncidentsOfBrands(db: Db, brandIds: readonly number[]): Promise<Map<number, string>> {
  if (brandIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('incidents')
    .select(['brand_id', 'id'])
    .where('brand_id', 'in', brandIds)
    .where('status', '<>', 'resolved')
    .orderBy('id', 'desc')
    .execute();
  return new Map(rows.map((r) => [r.brand_id, r.id]));
}

export async function linkTickets(trx: Db, links: readonly { ticketId: string; incidentId: string }[]): Promise<void> {
  const byIncident = new Map<string, string[]>();
  for (const l of links) byIncident.set(l.incidentId, [...(byIncident.get(l.incidentId) ?? []), l.ticketId]);
  for (const [incidentId, ticketIds] of byIncident) {
    await trx.updateTable('tickets').set({ incident_id: incidentId }).where('id', 'in', ticketIds).execute();
  }
}

export interface DigestCounts {
  brandId: number;
  brand: string;
  mentions: number;
  negative: number;
  ticketsOpened: number;
  ticketsSolved: number;
  ticketsOpen: number;
  slaBreached: number;
  incidents: number;
}

/** One line per brand for a digest of the period [from, to). */
export async function digestCounts(db: Db, from: Date, to: Date): Promise<DigestCounts[]> {
  const rows = await sql<{ id: number; name: string; mentions: string; negative: string; opened: string; solved: string; open: string; breached: string; incidents: string }>`
    SELECT b.id, b.name,
      (SELECT count(*) FROM mention_brands mb JOIN mentions m ON m.id = mb.mention_id
        WHERE mb.brand_id = b.id AND m.first_seen_at >= ${from} AND m.first_seen_at < ${to}) AS mentions,
      (SELECT count(*) FROM mention_brands mb JOIN mentions m ON m.id = mb.mention_id
        WHERE mb.brand_id = b.id AND m.first_seen_at >= ${from} AND m.first_seen_at < ${to} AND m.sentiment = 'negative') AS negative,
      (SELECT count(*) FROM tickets t WHERE t.brand_id = b.id AND t.created_at >= ${from} AND t.created_at < ${to}) AS opened,
      (SELECT count(*) FROM tickets t WHERE t.brand_id = b.id AND t.solved_at >= ${from} AND t.solved_at < ${to}) AS solved,
      (SELECT count(*) FROM tickets t WHERE t.brand_id = b.id AND t.status IN ('new', 'open', 'pending', 'on_hold')) AS open,
      (SELECT count(*) FROM tickets t WHERE t.brand_id = b.id AND cardinality(t.sla_breached) > 0 AND t.updated_at >= ${from} AND t.created_at < ${to}) AS breached,
      (SELECT count(*) FROM incidents i WHERE i.brand_id = b.id AND i.opened_at < ${to} AND (i.resolved_at IS NULL OR i.resolved_at >= ${from})) AS incidents
    FROM brands b ORDER BY b.name`.execute(db);
  return rows.rows.map((r) => ({
    brandId: r.id, brand: r.name, mentions: Number(r.mentions), negative: Number(r.negative), ticketsOpened: Number(r.opened),
    ticketsSolved: Number(r.solved), ticketsOpen: Number(r.open), slaBreached: Number(r.breached), incidents: Number(r.incidents),
  }));
}

/** How many alerts of the channel were held for its quiet hours in [from, to). */
export async function heldAlertCount(db: Db, channelId: string, from: Date, to: Date): Promise<number> {
  const row = await db
    .selectFrom('alerts')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('channel_id', '=', channelId)
    .where('held_until', 'is not', null)
    .where('created_at', '>=', from)
    .where('created_at', '<', to)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}
