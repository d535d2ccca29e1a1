import { CompiledQuery, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.ts';
import { crawlers } from '../crawlers/registry.ts';
import { syncConfig } from '../scheduler/sync-config.ts';
import type { Store } from '../store/connect.ts';
import { listTargetHealth, targetHealthQuery } from '../store/target-health.ts';
import { createInboxWorld, seedInboxWorld } from './helpers/inbox-world.ts';
import { createTestStore } from './helpers/test-store.ts';

const NOW = new Date('2026-11-30T08:00:00Z');
const MENTIONS = 20_000;
const config = parseConfig(
  `brands: [{ name: Acme, keywords: [acme] }]
routing: { defaultTeam: support }
teams: [{ id: support, name: Support }]
targets:
  - { id: feed-a, source: rss, brand: Acme, params: { url: "https://news.example/a.xml" } }
  - { id: feed-b, source: rss, brand: Acme, params: { url: "https://news.example/b.xml" } }
  - { id: feed-quiet, source: rss, brand: Acme, params: { url: "https://news.example/quiet.xml" } }
`,
  { env: {}, crawlers },
);

describe('a target\'s newest mention', () => {
  let store: Store;
  beforeAll(async () => {
    store = await createTestStore();
  });
  afterAll(async () => {
    await store?.close();
  });

  it('is kept on the target as ingestion stores mentions, and never moves back', async () => {
    const world = await createInboxWorld(store.db, NOW);
    // 120 items, one minute apart ending at NOW, over three of the targets; the others never get one.
    await seedInboxWorld(store.db, world, { count: 120, now: NOW });
    const newest = async () => {
      const health = await listTargetHealth(store.db, { now: NOW });
      return new Map(health.map((t) => [t.id, t.lastMentionAt]));
    };
    const fromMentions = async () => {
      const rows = await sql<{ id: string; latest: Date | null }>`
        SELECT t.id, max(coalesce(m.published_at, m.first_seen_at)) AS latest
        FROM targets t LEFT JOIN mentions m ON m.target_id = t.id GROUP BY t.id
      `.execute(store.db);
      return new Map(rows.rows.map((r) => [r.id, r.latest]));
    };
    const stored = await newest();
    expect(stored).toEqual(await fromMentions());
    expect([...stored.values()].filter((at) => at !== null).length).toBe(3);
    // Older items arriving later (a first crawl paging back) leave it where it is.
    await seedInboxWorld(store.db, world, { count: 40, from: 1_000, now: new Date(NOW.getTime() - 86_400_000) });
    expect(await newest()).toEqual(stored);
    expect(await fromMentions()).toEqual(stored);
  });
});

// A store big enough that the planner prefers a sequential scan wherever no index serves: 20,000 mentions over
// 90 days on two targets (one in three without a publication time), and 300 crawl runs.
describe('target health on a seeded store', () => {
  let store: Store;
  beforeAll(async () => {
    store = await createTestStore();
    await syncConfig(store.db, config, crawlers, NOW);
    const brand = await store.db.selectFrom('brands').select('id').where('name', '=', 'Acme').executeTakeFirstOrThrow();
    await sql`
      INSERT INTO mentions (source, external_id, brand_id, target_id, author, text, content_hash, published_at,
        first_seen_at, updated_at, lang, sentiment, sentiment_model, actionable, metrics, reply)
      SELECT 'rss', 'm-' || g, ${brand.id}, CASE WHEN g % 2 = 0 THEN 'feed-a' ELSE 'feed-b' END, '{}', 'text ' || g, 'h-' || g,
        CASE WHEN g % 3 = 0 THEN NULL ELSE ${NOW}::timestamptz - make_interval(mins => g * 6 + 30) END,
        ${NOW}::timestamptz - make_interval(mins => g * 6), ${NOW}, 'en', 'neutral', 'en-v2', false, '{}', 'null'
      FROM generate_series(1, ${MENTIONS}::int) AS g
    `.execute(store.db);
    await sql`
      INSERT INTO crawl_runs (target_id, status, started_at, finished_at, fetched, new, updated, duplicates, tickets)
      SELECT CASE WHEN g % 2 = 0 THEN 'feed-a' ELSE 'feed-b' END, 'ok', ${NOW}::timestamptz - make_interval(hours => 301 - g),
        ${NOW}::timestamptz - make_interval(hours => 301 - g), g, 1, 0, 0, 0
      FROM generate_series(1, 300) AS g
    `.execute(store.db);
    await sql`ANALYZE`.execute(store.db);
  });
  afterAll(async () => {
    await store?.close();
  });

  it('gives each target its mentions of the last 24 hours and its last run', async () => {
    const health = await listTargetHealth(store.db, { now: NOW });
    const expected = await sql<{ target_id: string; day: string }>`
      SELECT target_id, count(*) FILTER (WHERE first_seen_at > ${new Date(NOW.getTime() - 86_400_000)} AND first_seen_at <= ${NOW}) AS day
      FROM mentions GROUP BY target_id ORDER BY target_id
    `.execute(store.db);
    expect(health.map((t) => [t.id, t.mentions24h, t.lastRun?.fetched ?? null])).toEqual([
      ['feed-a', Number(expected.rows[0]!.day), 300],
      ['feed-b', Number(expected.rows[1]!.day), 299],
      ['feed-quiet', 0, null],
    ]);
    // Mention g was seen g·6 minutes before now: g = 1..239 are within the last day (240 is exactly a day old).
    expect(health[0]!.mentions24h + health[1]!.mentions24h).toBe(239);
  });

  it('reads mentions and runs through their indexes, never scanning or sorting the whole table', async () => {
    const compiled = targetHealthQuery(store.db, { now: NOW }).compile();
    const plan = await store.db.executeQuery<{ 'QUERY PLAN': string }>(
      CompiledQuery.raw(`EXPLAIN (ANALYZE, COSTS OFF) ${compiled.sql}`, [...compiled.parameters]),
    );
    const text = plan.rows.map((r) => r['QUERY PLAN']).join('\n');
    expect(text).not.toMatch(/Seq Scan on mentions/);
    expect(text).not.toMatch(/external/i);
    expect(text).toMatch(/mentions_target_seen_idx/);
  });
});
