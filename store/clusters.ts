import { sql } from 'kysely';
import type { Db } from './connect.ts';

/** A mention just inserted, waiting for its cluster. */
export interface ClusterMember {
  id: string;
  brandId: number;
  source: string;
  /** Title and text, as compared. */
  text: string;
  fingerprint: string | null;
  lsh: readonly string[];
  seenAt: Date;
}

/**
 * How surely a candidate tells the same story as a text: 0 when it does not, else a score up to 1. Confirms
 * what the LSH bands suggest; prepared once per text, then asked of each candidate.
 */
export type SameStory = (text: string) => (candidate: string) => number;

interface Candidate {
  id: string;
  clusterId: string;
  text: string;
  lsh: readonly string[];
}

// LSH bands can be shared by chance; a viral story can have thousands of members. Confirming against a
// few of them, most bands shared first, is enough: they are all the same story.
const CANDIDATES_PER_MENTION = 20;
const SURE_COPY = 0.9;
// How many members of a story keep their band keys in the index: enough variants to meet new copies.
const INDEXED_MEMBERS = 20;

/**
 * Puts each new mention into a cluster, in the order given: the cluster of an exact copy (same fingerprint),
 * else of the confirmed LSH candidate sharing most bands, else a new cluster it represents. Candidates come
 * from the store (index lookups, so the cost per mention does not grow with the store) and from earlier
 * mentions of the same call. Returns mention id → cluster id.
 */
export async function assignClusters(db: Db, members: readonly ClusterMember[], sameStory: SameStory): Promise<Map<string, string>> {
  const assigned = new Map<string, string>();
  if (members.length === 0) return assigned;
  const brandId = members[0]!.brandId;
  if (members.some((m) => m.brandId !== brandId)) throw new Error('assignClusters: one brand per call');

  const exact = await exactClusters(db, brandId, members);
  const stored = await lshCandidates(db, brandId, members);
  const local: Candidate[] = [];
  // Stories first seen in this call get their cluster row at the end, in one insert: until then their
  // cluster is known by the representative's id.
  const founded = new Map<string, ClusterMember[]>();
  const joined = new Map<string, ClusterMember[]>();
  const pending = new Map<string, string>();
  for (const member of members) {
    const copy = member.fingerprint === null ? undefined : exact.get(member.fingerprint);
    let clusterId = copy ?? confirm(member, [...local, ...(stored.get(member.id) ?? [])], sameStory);
    if (clusterId === undefined) {
      clusterId = `new:${member.id}`;
      founded.set(clusterId, [member]);
    } else if (founded.has(clusterId)) founded.get(clusterId)!.push(member);
    else {
      if (!joined.has(clusterId)) joined.set(clusterId, []);
      joined.get(clusterId)!.push(member);
    }
    pending.set(member.id, clusterId);
    local.push({ id: member.id, clusterId, text: member.text, lsh: member.lsh });
    if (member.fingerprint !== null && !exact.has(member.fingerprint)) exact.set(member.fingerprint, clusterId);
  }
  const created = await createClusters(db, [...founded.values()]);
  for (const [mentionId, clusterId] of pending) assigned.set(mentionId, created.get(clusterId) ?? clusterId);
  const sizes = await growClusters(db, joined);
  // A story's first members stand for it in the band index; later copies keep their cluster but leave the
  // index, so a viral story's band keys do not grow posting lists every new mention must read through.
  const unindexed = new Set<string>();
  for (const members of founded.values()) for (const m of members.slice(INDEXED_MEMBERS)) unindexed.add(m.id);
  for (const [clusterId, members] of joined) {
    const firstPosition = sizes.get(clusterId)! - members.length + 1;
    members.forEach((m, i) => firstPosition + i > INDEXED_MEMBERS && unindexed.add(m.id));
  }
  await setMentionClusters(db, assigned, unindexed);
  return assigned;
}

/** The cluster of the most similar confirmed candidate among those sharing most bands. */
function confirm(member: ClusterMember, candidates: readonly Candidate[], sameStory: SameStory): string | undefined {
  if (member.lsh.length === 0 || candidates.length === 0) return undefined;
  const bands = new Set(member.lsh);
  const ranked = candidates
    .map((c) => ({ c, shared: c.lsh.reduce((n, key) => n + (bands.has(key) ? 1 : 0), 0) }))
    .filter((r) => r.shared > 0)
    .sort((a, b) => b.shared - a.shared)
    .slice(0, CANDIDATES_PER_MENTION);
  if (ranked.length === 0) return undefined;
  const similarity = sameStory(member.text);
  let best: { clusterId: string; score: number } | undefined;
  for (const { c } of ranked) {
    const score = similarity(c.text);
    if (score > 0 && (best === undefined || score > best.score)) best = { clusterId: c.clusterId, score };
    // A near-certain copy settles it: in a viral story every candidate is another copy of the same one.
    if (score >= SURE_COPY) break;
  }
  return best?.clusterId;
}

async function exactClusters(db: Db, brandId: number, members: readonly ClusterMember[]): Promise<Map<string, string>> {
  const fingerprints = [...new Set(members.flatMap((m) => (m.fingerprint === null ? [] : [m.fingerprint])))];
  if (fingerprints.length === 0) return new Map();
  const rows = await db
    .selectFrom('mentions')
    .select(['fingerprint', 'cluster_id'])
    .distinctOn('fingerprint')
    .where('brand_id', '=', brandId)
    .where('fingerprint', 'in', fingerprints)
    .where('cluster_id', 'is not', null)
    .orderBy('fingerprint')
    .orderBy('id')
    .execute();
  return new Map(rows.map((r) => [r.fingerprint!, r.cluster_id!]));
}

/** Up to CANDIDATES_PER_MENTION stored mentions sharing a band with each member, in one round trip. */
async function lshCandidates(db: Db, brandId: number, members: readonly ClusterMember[]): Promise<Map<string, Candidate[]>> {
  const asking = members.filter((m) => m.lsh.length > 0);
  const found = new Map<string, Candidate[]>();
  if (asking.length === 0) return found;
  // The planner guesses thousands of rows per band lookup (it has no statistics for &&), so on a large store
  // the query's cost crosses jit_above_cost and PostgreSQL spends ~270 ms compiling it for a 0.4 ms lookup
  // per mention. LOCAL: only for the ingesting transaction.
  await sql`SET LOCAL jit = off`.execute(db);
  const ids = asking.map((m) => m.id);
  const bands = asking.map((m) => `{${m.lsh.join(',')}}`);
  const { rows } = await sql<{ member: string; id: string; cluster_id: string; title: string | null; text: string; lsh: string[] }>`
    SELECT q.member, c.id, c.cluster_id, c.title, c.text, c.lsh
    FROM unnest(${ids}::bigint[], ${bands}::text[]) AS q(member, bands)
    CROSS JOIN LATERAL (
      SELECT m.id, m.cluster_id, m.title, m.text, m.lsh FROM mentions m
      WHERE m.brand_id = ${brandId} AND m.lsh && q.bands::bigint[] AND m.cluster_id IS NOT NULL AND m.id <> q.member
      -- Most bands shared first: a key shared by many mentions (a channel's signature line, a viral story)
      -- must not crowd the true copy out.
      ORDER BY cardinality(ARRAY(SELECT unnest(m.lsh) INTERSECT SELECT unnest(q.bands::bigint[]))) DESC, m.id DESC
      LIMIT ${CANDIDATES_PER_MENTION}
    ) c
  `.execute(db);
  for (const row of rows) {
    const member = String(row.member);
    if (!found.has(member)) found.set(member, []);
    found.get(member)!.push({ id: row.id, clusterId: row.cluster_id, text: joinTitle(row.title, row.text), lsh: row.lsh.map(String) });
  }
  return found;
}

/** How a mention's title and text are compared: the same join as ingestion's. */
export function joinTitle(title: string | null, text: string): string {
  return title ? `${title}. ${text}` : text;
}

/** One cluster row per new story, its first member the representative; returns `new:<id>` → cluster id. */
async function createClusters(db: Db, stories: readonly ClusterMember[][]): Promise<Map<string, string>> {
  if (stories.length === 0) return new Map();
  const rows = await db
    .insertInto('clusters')
    .values(
      stories.map((members) => ({
        brand_id: members[0]!.brandId,
        representative_id: members[0]!.id,
        size: members.length,
        sources: [...new Set(members.map((m) => m.source))].sort(),
        first_seen_at: new Date(Math.min(...members.map((m) => m.seenAt.getTime()))),
        last_seen_at: new Date(Math.max(...members.map((m) => m.seenAt.getTime()))),
      })),
    )
    .returning(['id', 'representative_id'])
    .execute();
  return new Map(rows.map((r) => [`new:${r.representative_id}`, r.id]));
}

/** Adds the members to their clusters; returns each cluster's size after. */
async function growClusters(db: Db, joined: ReadonlyMap<string, ClusterMember[]>): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  for (const [clusterId, members] of joined) {
    const sources = [...new Set(members.map((m) => m.source))];
    const last = new Date(Math.max(...members.map((m) => m.seenAt.getTime())));
    const { rows } = await sql<{ size: number }>`
      UPDATE clusters SET
        size = size + ${members.length},
        sources = ARRAY(SELECT DISTINCT s FROM unnest(sources || ${sources}::text[]) AS s ORDER BY s),
        last_seen_at = GREATEST(last_seen_at, ${last})
      WHERE id = ${clusterId}
      RETURNING size
    `.execute(db);
    sizes.set(clusterId, rows[0]!.size);
  }
  return sizes;
}

async function setMentionClusters(db: Db, assigned: ReadonlyMap<string, string>, unindexed: ReadonlySet<string>): Promise<void> {
  if (assigned.size === 0) return;
  const ids = [...assigned.keys()];
  const clusters = ids.map((id) => assigned.get(id)!);
  const keep = ids.map((id) => !unindexed.has(id));
  await sql`
    UPDATE mentions m SET cluster_id = v.cluster_id, lsh = CASE WHEN v.keep THEN m.lsh ELSE '{}' END
    FROM unnest(${ids}::bigint[], ${clusters}::bigint[], ${keep}::boolean[]) AS v(id, cluster_id, keep)
    WHERE m.id = v.id
  `.execute(db);
}
