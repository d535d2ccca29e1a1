import { sql } from 'kysely';
import type { Db } from './connect.ts';

/** A story asking for its candidates: its key in the caller's page, fingerprint and band keys. */
export interface StoryQuery {
  key: string;
  fingerprint: string | null;
  bands: readonly string[];
}

export interface StoredCandidate {
  mentionId: string;
  clusterId: string;
  /** Bands shared with the asking story. */
  shared: number;
  title: string | null;
  text: string;
}

export interface FoundStories {
  exact: Map<string, string>;
  candidates: Map<string, StoredCandidate[]>;
  sizes: Map<string, number>;
}

/**
 * What the store knows of a page's stories, among the mentions of one brand, in two index lookups (the cost
 * per story does not grow with the store): the cluster of the oldest mention with each fingerprint, and per
 * story the `limit` mentions sharing most of its bands, newest first among equals, with their clusters' sizes.
 */
export async function findStoredStories(db: Db, brandId: number, stories: readonly StoryQuery[], limit: number): Promise<FoundStories> {
  const found: FoundStories = { exact: new Map(), candidates: new Map(), sizes: new Map() };
  const fingerprints = [...new Set(stories.flatMap((s) => (s.fingerprint === null ? [] : [s.fingerprint])))];
  if (fingerprints.length > 0) {
    const { rows } = await sql<{ fingerprint: string; cluster_id: string; size: number }>`
      SELECT DISTINCT ON (m.fingerprint) m.fingerprint, m.cluster_id, c.size
      FROM mentions m JOIN clusters c ON c.id = m.cluster_id
      WHERE m.brand_id = ${brandId} AND m.fingerprint = ANY(${fingerprints}::text[])
      ORDER BY m.fingerprint, m.id
    `.execute(db);
    for (const r of rows) {
      found.exact.set(r.fingerprint, r.cluster_id);
      found.sizes.set(r.cluster_id, r.size);
    }
  }
  const asking = stories.filter((s) => s.bands.length > 0);
  if (asking.length === 0) return found;
  // The planner guesses thousands of rows per band lookup (it has no statistics for &&), so on a large store
  // the query's cost crosses jit_above_cost and PostgreSQL spends ~270 ms compiling it for a 0.4 ms lookup
  // per story. LOCAL: only for the ingesting transaction.
  await sql`SET LOCAL jit = off`.execute(db);
  // `brand_id + 0`: the band index alone finds a handful of rows; without fresh statistics the planner ANDs
  // the brand's index into the bitmap and reads all of the brand's entries for every story.
  // A candidate shared by several stories of the page sends its text once (the first row that names it).
  const { rows } = await sql<{ i: string; id: string; cluster_id: string; shared: number; size: number; title: string | null; text: string | null }>`
    SELECT q.i, c.id, c.cluster_id, c.shared, cl.size,
      CASE WHEN row_number() OVER (PARTITION BY c.id ORDER BY q.i) = 1 THEN m.title END AS title,
      CASE WHEN row_number() OVER (PARTITION BY c.id ORDER BY q.i) = 1 THEN m.text END AS text
    FROM unnest(${asking.map((s) => `{${s.bands.join(',')}}`)}::text[]) WITH ORDINALITY AS q(bands, i)
    CROSS JOIN LATERAL (
      SELECT m.id, m.cluster_id, cardinality(ARRAY(SELECT unnest(m.lsh) INTERSECT SELECT unnest(q.bands::bigint[]))) AS shared
      FROM mentions m
      WHERE m.brand_id + 0 = ${brandId} AND m.lsh && q.bands::bigint[] AND m.cluster_id IS NOT NULL
      ORDER BY shared DESC, m.id DESC
      LIMIT ${limit}
    ) c
    JOIN clusters cl ON cl.id = c.cluster_id
    JOIN mentions m ON m.id = c.id
    ORDER BY q.i, c.shared DESC, c.id DESC
  `.execute(db);
  const texts = new Map<string, { title: string | null; text: string }>();
  for (const r of rows) if (r.text !== null) texts.set(r.id, { title: r.title, text: r.text });
  for (const r of rows) {
    const story = asking[Number(r.i) - 1]!;
    const { title, text } = texts.get(r.id)!;
    let list = found.candidates.get(story.key);
    if (!list) found.candidates.set(story.key, (list = []));
    list.push({ mentionId: r.id, clusterId: r.cluster_id, shared: r.shared, title, text });
    found.sizes.set(r.cluster_id, r.size);
  }
  return found;
}

export interface NewCluster {
  id: string;
  brandId: number;
  representativeId: string;
  size: number;
  sources: readonly string[];
  firstSeenAt: Date;
  lastSeenAt: Date;
}

export async function insertClusters(db: Db, clusters: readonly NewCluster[]): Promise<void> {
  if (clusters.length === 0) return;
  await db
    .insertInto('clusters')
    .values(
      clusters.map((c) => ({
        id: c.id,
        brand_id: c.brandId,
        representative_id: c.representativeId,
        size: c.size,
        sources: [...c.sources].sort(),
        first_seen_at: c.firstSeenAt,
        last_seen_at: c.lastSeenAt,
      })),
    )
    .execute();
}

export interface ClusterGrowth {
  id: string;
  added: number;
  sources: readonly string[];
  lastSeenAt: Date;
}

/** Adds members to stored clusters, in one statement for the whole page. */
export async function growClusters(db: Db, growths: readonly ClusterGrowth[]): Promise<void> {
  if (growths.length === 0) return;
  // Source ids are plain words ("2gis", "vk"): a comma-joined list per row keeps the arrays unnest-able.
  await sql`
    UPDATE clusters c SET
      size = c.size + v.added,
      sources = ARRAY(SELECT DISTINCT s FROM unnest(c.sources || string_to_array(v.sources, ',')) AS s ORDER BY s),
      last_seen_at = GREATEST(c.last_seen_at, v.last_seen_at)
    FROM unnest(
      ${growths.map((g) => g.id)}::bigint[], ${growths.map((g) => g.added)}::int[],
      ${growths.map((g) => g.sources.join(','))}::text[], ${growths.map((g) => g.lastSeenAt.toISOString())}::timestamptz[]
    ) AS v(id, added, sources, last_seen_at)
    WHERE c.id = v.id
  `.execute(db);
}
