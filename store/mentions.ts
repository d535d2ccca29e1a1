import { sql, type RawBuilder, type Selectable } from 'kysely';
import type { MentionAuthor, MentionDetails, MentionMetrics, MentionReply } from '../crawlers/types.ts';
import type { Db } from './connect.ts';
import type { MentionTable, NewMention } from './schema.ts';

/** A mention as the pipeline hands it over: jsonb fields as values, encoded here and nowhere else. */
export type MentionInput = Omit<NewMention, 'id' | 'author' | 'metrics' | 'reply' | 'details' | 'cluster_id'> & {
  author: MentionAuthor;
  metrics: MentionMetrics;
  reply: MentionReply | null;
  details?: MentionDetails;
};

function encodeMention(m: MentionInput): NewMention {
  return {
    ...m,
    author: JSON.stringify(m.author),
    metrics: JSON.stringify(m.metrics),
    reply: JSON.stringify(m.reply),
    details: JSON.stringify(m.details ?? {}),
  };
}

/** A stored mention as ingestion needs to know it: its id, and whether the page's copy changed it. */
export interface KnownMention {
  id: string;
  contentHash: string;
}

export function mentionKey(source: string, externalId: string): string {
  return `${source}\u0000${externalId}`;
}

/** The stored mentions among (source, external id) pairs, by `mentionKey`; one index lookup. */
export async function findKnownMentions(db: Db, keys: readonly { source: string; externalId: string }[]): Promise<Map<string, KnownMention>> {
  if (keys.length === 0) return new Map();
  const { rows } = await sql<{ id: string; source: string; external_id: string; content_hash: string }>`
    SELECT m.id, m.source, m.external_id, m.content_hash
    FROM unnest(${keys.map((k) => k.source)}::text[], ${keys.map((k) => k.externalId)}::text[]) AS v(source, external_id)
    JOIN mentions m ON m.source = v.source AND m.external_id = v.external_id
  `.execute(db);
  return new Map(rows.map((r) => [mentionKey(r.source, r.external_id), { id: r.id, contentHash: r.content_hash }]));
}

/** Ids for rows about to be written, so a mention and the cluster it founds can name each other in one insert each. */
export async function reserveIds(db: Db, counts: { mentions: number; clusters: number }): Promise<{ mentions: string[]; clusters: string[] }> {
  if (counts.mentions === 0 && counts.clusters === 0) return { mentions: [], clusters: [] };
  const { rows } = await sql<{ mentions: string[]; clusters: string[] }>`
    SELECT
      ARRAY(SELECT nextval(pg_get_serial_sequence('mentions', 'id')) FROM generate_series(1, ${counts.mentions}::int)) AS mentions,
      ARRAY(SELECT nextval(pg_get_serial_sequence('clusters', 'id')) FROM generate_series(1, ${counts.clusters}::int)) AS clusters
  `.execute(db);
  return { mentions: rows[0]!.mentions.map(String), clusters: rows[0]!.clusters.map(String) };
}

/**
 * Inserts new mentions, each with its id and cluster already chosen. Returns the ids written: a row another
 * transaction inserted first is skipped, and the caller decides what that means.
 */
export async function insertMentions(db: Db, rows: readonly (MentionInput & { id: string; cluster_id: string })[]): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const written = await db
    .insertInto('mentions')
    .values(rows.map((row) => ({ ...encodeMention(row), id: row.id, cluster_id: row.cluster_id })))
    .onConflict((oc) => oc.columns(['source', 'external_id']).doNothing())
    .returning(['id', 'target_id', sql<Date>`coalesce(published_at, first_seen_at)`.as('at')])
    .execute();
  await advanceLatestMention(db, written);
  return new Set(written.map((r) => r.id));
}

/**
 * Moves each target's newest-mention time (targets.latest_mention_at) forward to the newest of the mentions it
 * just stored, in the same transaction: target health and silence alerts read it there.
 */
export async function advanceLatestMention(db: Db, written: readonly { target_id: string | null; at: Date }[]): Promise<void> {
  const newest = new Map<string, Date>();
  for (const { target_id: target, at } of written) {
    if (target === null) continue;
    const when = new Date(at);
    const seen = newest.get(target);
    if (seen === undefined || seen < when) newest.set(target, when);
  }
  for (const [target, at] of [...newest].sort(([a], [b]) => (a < b ? -1 : 1))) {
    await db
      .updateTable('targets')
      .set({ latest_mention_at: at })
      .where('id', '=', target)
      .where((eb) => eb.or([eb('latest_mention_at', 'is', null), eb('latest_mention_at', '<', at)]))
      .execute();
  }
}

export interface UpsertedMention {
  id: string;
  source: string;
  external_id: string;
  cluster_id: string | null;
  actionable: boolean;
  inserted: boolean;
}

/**
 * Inserts mentions without a cluster, or writes what changed in stored ones, keeping their id and cluster;
 * unchanged rows are left alone and not returned. Ingestion sends only rows it knows are stored and changed.
 * A person's correction outranks the crawl: corrected sentiment or actionable columns keep their values.
 */
export async function upsertMentions(db: Db, rows: readonly MentionInput[]): Promise<UpsertedMention[]> {
  if (rows.length === 0) return [];
  return db
    .insertInto('mentions')
    .values(rows.map(encodeMention))
    .onConflict((oc) =>
      oc
        .columns(['source', 'external_id'])
        .doUpdateSet((eb) => ({
          url: eb.ref('excluded.url'),
          author: eb.ref('excluded.author'),
          title: eb.ref('excluded.title'),
          text: eb.ref('excluded.text'),
          content_hash: eb.ref('excluded.content_hash'),
          rating: eb.ref('excluded.rating'),
          published_at: eb.ref('excluded.published_at'),
          updated_at: eb.ref('excluded.updated_at'),
          lang: eb.ref('excluded.lang'),
          sentiment: unlessCorrected('sentiment_corrected', 'sentiment'),
          sentiment_score: unlessCorrected('sentiment_corrected', 'sentiment_score'),
          sentiment_model: unlessCorrected('sentiment_corrected', 'sentiment_model'),
          sentiment_confidence: unlessCorrected('sentiment_corrected', 'sentiment_confidence'),
          sentiment_reason: unlessCorrected('sentiment_corrected', 'sentiment_reason'),
          actionable: unlessCorrected('actionable_corrected', 'actionable'),
          action_reasons: unlessCorrected('actionable_corrected', 'action_reasons'),
          metrics: eb.ref('excluded.metrics'),
          reply: eb.ref('excluded.reply'),
          details: eb.ref('excluded.details'),
        }))
        .where('mentions.content_hash', 'is distinct from', (eb) => eb.ref('excluded.content_hash')),
    )
    // xmax = 0 only on a freshly inserted row version: it tells an insert from an update.
    .returning(['id', 'source', 'external_id', 'cluster_id', 'actionable', sql<boolean>`(xmax = 0)`.as('inserted')])
    .execute();
}

type Corrected = 'sentiment_corrected' | 'actionable_corrected';

/** The stored value when a person corrected it, else the crawl's (`excluded`) value. */
function unlessCorrected<C extends keyof MentionTable & string>(flag: Corrected, column: C): RawBuilder<Selectable<MentionTable>[C]> {
  return sql<Selectable<MentionTable>[C]>`CASE WHEN ${sql.ref(`mentions.${flag}`)} THEN ${sql.ref(`mentions.${column}`)} ELSE ${sql.ref(`excluded.${column}`)} END`;
}

/** Links stored mentions to the brands they name; a link already there is kept. */
export async function linkMentionBrands(db: Db, links: readonly { mentionId: string; brandId: number }[]): Promise<void> {
  if (links.length === 0) return;
  await sql`
    INSERT INTO mention_brands (brand_id, mention_id)
    SELECT * FROM unnest(${links.map((l) => l.brandId)}::int[], ${links.map((l) => l.mentionId)}::bigint[])
    ON CONFLICT DO NOTHING
  `.execute(db);
}
