import { sql } from 'kysely';
import type { Db } from './connect.ts';

// What the triage inbox shows around a mention and on its dashboard: a mention's story and ticket, mention
// volume per day, the stories with the most mentions. A mention's instant is its publication, or when we first
// saw it when the source gave no date: the same instant the mention list's `since` filters on.

/**
 * The ticket of the mention's story: its open one, else the newest (a story has one open ticket at most, and a new
 * one opens only after the last was solved). The mention's own ticket when it has no story; null when none.
 */
/** The other mentions of a story, newest first by id, at most `limit`, and how many there are in all. */
export async function listStoryCopies(db: Db, clusterId: string, exceptId: string, limit: number): Promise<{ ids: string[]; total: number }> {
  const [rows, count] = await Promise.all([
    db
      .selectFrom('mentions')
      .select('id')
      .where('cluster_id', '=', clusterId)
      .where('id', '<>', exceptId)
      .orderBy('id', 'desc')
      .limit(limit)
      .execute(),
    db
      .selectFrom('mentions')
      .select(sql<number>`count(*)::int`.as('n'))
      .where('cluster_id', '=', clusterId)
      .where('id', '<>', exceptId)
      .executeTakeFirstOrThrow(),
  ]);
  return { ids: rows.map((r) => r.id), total: count.n };
}

export interface VolumeFilter {
  /**
   * The days' boundaries, ascending: day i is [dayStarts[i], dayStarts[i + 1]). The caller computes them in its
   * time zone, so local days (and their daylight saving changes) need no time zone data in the database.
   */
  dayStarts: readonly Date[];
  /** Mentions after this instant are left out (a date in the future is clock skew). */
  until: Date;
  /** The brand the mentions were stored for, by name. */
  brand?: string | undefined;
  source?: string | undefined;
}

export interface VolumeRow {
  /** Index into the filter's days: 0 is the day starting at dayStarts[0]. */
  day: number;
  brand: string;
  source: string;
  positive: number;
  neutral: number;
  negative: number;
  mixed: number;
  /** Every mention of the group, unscored ones included. */
  total: number;
}

/**
 * Mentions per day, stored brand and source, by tone, in one grouped scan of the window; only groups with
 * mentions. Ordered by day, brand name, source (byte order).
 */
export async function countMentionVolume(db: Db, filter: VolumeFilter): Promise<VolumeRow[]> {
  const starts = filter.dayStarts;
  if (starts.length < 2) return [];
  const from = starts[0]!;
  const end = starts.at(-1)!;
  const until = filter.until < end ? filter.until : new Date(end.getTime() - 1);
  const at = sql<Date>`coalesce(m.published_at, m.first_seen_at)`;
  const brand = filter.brand === undefined ? sql`` : sql`AND m.brand_id = (SELECT id FROM brands WHERE name = ${filter.brand})`;
  const source = filter.source === undefined ? sql`` : sql`AND m.source = ${filter.source}`;
  const { rows } = await sql<VolumeRow>`
    SELECT v.day - 1 AS day, b.name AS brand, v.source, v.positive, v.neutral, v.negative, v.mixed, v.total
    FROM (
      SELECT width_bucket(${at}, ${starts.map((d) => d.toISOString())}::timestamptz[]) AS day, m.brand_id, m.source,
        count(*) FILTER (WHERE m.sentiment = 'positive')::int AS positive,
        count(*) FILTER (WHERE m.sentiment = 'neutral')::int AS neutral,
        count(*) FILTER (WHERE m.sentiment = 'negative')::int AS negative,
        count(*) FILTER (WHERE m.sentiment = 'mixed')::int AS mixed,
        count(*)::int AS total
      FROM mentions m
      WHERE ${at} >= ${from} AND ${at} <= ${until} ${brand} ${source}
      GROUP BY 1, m.brand_id, m.source
    ) v
    JOIN brands b ON b.id = v.brand_id
    ORDER BY v.day, b.name COLLATE "C", v.source COLLATE "C"
  `.execute(db);
  return rows;
}

export interface TopStoriesFilter {
  since: Date;
  until: Date;
  /** The story's brand, by name. */
  brand?: string | undefined;
  limit: number;
}

export interface TopStory {
  clusterId: string;
  size: number;
  mentionsInWindow: number;
  negativeInWindow: number;
  sources: string[];
  firstSeenAt: Date;
  lastSeenAt: Date;
  representativeId: string;
}

/**
 * The stories with the most mentions in [since, until], most first (the newer story first among equals), with
 * what the cluster row says of the whole story.
 */
export async function listTopStories(db: Db, filter: TopStoriesFilter): Promise<TopStory[]> {
  const at = sql<Date>`coalesce(m.published_at, m.first_seen_at)`;
  const brand = filter.brand === undefined ? sql`` : sql`AND m.brand_id = (SELECT id FROM brands WHERE name = ${filter.brand})`;
  const { rows } = await sql<{
    cluster_id: string; mentions: number; negative: number; size: number; sources: string[];
    first_seen_at: Date; last_seen_at: Date; representative_id: string;
  }>`
    SELECT w.cluster_id, w.mentions, w.negative, c.size, c.sources, c.first_seen_at, c.last_seen_at, c.representative_id
    FROM (
      SELECT m.cluster_id, count(*)::int AS mentions, count(*) FILTER (WHERE m.sentiment = 'negative')::int AS negative
      FROM mentions m
      WHERE m.cluster_id IS NOT NULL AND ${at} >= ${filter.since} AND ${at} <= ${filter.until} ${brand}
      GROUP BY m.cluster_id
      ORDER BY mentions DESC, m.cluster_id DESC
      LIMIT ${filter.limit}
    ) w
    JOIN clusters c ON c.id = w.cluster_id
    ORDER BY w.mentions DESC, w.cluster_id DESC
  `.execute(db);
  return rows.map((r) => ({
    clusterId: r.cluster_id, size: r.size, mentionsInWindow: r.mentions, negativeInWindow: r.negative, sources: r.sources,
    firstSeenAt: r.first_seen_at, lastSeenAt: r.last_seen_at, representativeId: r.representative_id,
  }));
}
