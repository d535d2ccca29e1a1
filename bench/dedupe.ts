import { sql } from 'kysely';
import type { MentionDraft } from '../crawlers/types.ts';
import { createClusterIndex } from '../pipeline/cluster.ts';
import { createStageTimings, ingestPage } from '../pipeline/ingest.ts';
import { upsertBrand } from '../store/brands.ts';
import { migrateToLatest, type Store } from '../store/connect.ts';
import { generateRepostSet, pairwiseScore } from './dedupe-set.ts';
import { openBenchStore } from './ingest.ts';
import { basicTicketPolicy } from '../pipeline/ticket-policy.ts';

const PAGE = 50;
// Real mentions carry 25–100 band keys, about 30 on average.
const BANDS_PER_MENTION = 30;
const FILL_BATCH = 100_000;

/**
 * Near-duplicate clustering at three store sizes: the store is filled with N stored mentions (random band
 * keys and fingerprints, as many index entries as real ones), then the generated repost set goes through
 * the crawl's store path page by page. Prints the cost per new mention (it must stay flat as the store
 * grows: index lookups, no scan) and, on the first size, precision and recall of the database path and of
 * the offline `earshot cluster` index on that set.
 */
export async function benchDedupe(opts: { sizes: readonly number[]; databaseUrl: string | undefined; seed: number }): Promise<void> {
  const set = generateRepostSet({ seed: opts.seed });
  const kind = opts.databaseUrl ? 'postgres' : 'pglite';
  {
    const index = createClusterIndex();
    const started = performance.now();
    const clusterOf = new Map(set.map((item) => [item.id, index.add(item.id, item.text)]));
    const ms = performance.now() - started;
    const score = pairwiseScore(set, (id) => clusterOf.get(id)!);
    print({ bench: 'dedupe-offline', items: set.length, groups: new Set(set.map((i) => i.group)).size, ...score, ms_per_mention: round(ms / set.length) });
  }
  for (const [i, size] of opts.sizes.entries()) {
    const { store, cleanup } = await openBenchStore(kind, opts.databaseUrl);
    try {
      await migrateToLatest(store.db);
      const brand = await upsertBrand(store.db, { name: 'Bench', keywords: ['bench'] }, new Date());
      const fillStarted = performance.now();
      await fillStore(store, brand.id, size);
      const fillSeconds = (performance.now() - fillStarted) / 1000;
      const drafts = set.map((item): MentionDraft => ({
        source: 'vk', externalId: item.id, url: null, author: { name: 'bench' }, text: item.text, title: null, rating: null,
        publishedAt: null, lang: null, metrics: {}, reply: null, parentExternalId: null,
      }));
      const timings = createStageTimings();
      const deps = { db: store.db, now: () => new Date(), policy: basicTicketPolicy({ defaultTeam: 'support', helpdesks: [], channels: [] }), timings };
      const scope = { brands: [{ brand, matcher: null }], targetId: null };
      for (let p = 0; p < drafts.length; p += PAGE) await ingestPage(deps, drafts.slice(p, p + PAGE), scope);
      const clusterOf = new Map(
        (await store.db.selectFrom('mentions').select(['external_id', 'cluster_id']).where('source', '=', 'vk').execute()).map((m) => [m.external_id, m.cluster_id!]),
      );
      const clusterMs = timings.lookup + timings.cluster;
      const insertMs = timings.write;
      const line: Record<string, unknown> = {
        bench: 'dedupe', db: kind, store_mentions: size, fill_seconds: round(fillSeconds), new_mentions: drafts.length,
        // Lookups (known items, stored candidates) and the clustering rule apart from the writes, per new mention.
        cluster_ms_per_mention: round(clusterMs / drafts.length), insert_ms_per_mention: round(insertMs / drafts.length),
      };
      if (i === 0) Object.assign(line, pairwiseScore(set, (id) => clusterOf.get(id)!));
      print(line);
    } finally {
      await cleanup();
    }
  }
}

/** N stored mentions of one filler story, each with its own fingerprint and random band keys. */
async function fillStore(store: Store, brandId: number, n: number): Promise<void> {
  if (n === 0) return;
  const first = await store.db
    .insertInto('mentions')
    .values({
      source: 'fill', external_id: 'fill-0', brand_id: brandId, author: '{}', text: 'filler', content_hash: 'fill-0',
      first_seen_at: new Date(), updated_at: new Date(), lang: 'other', sentiment: 'unscored', sentiment_model: 'none',
      actionable: false, metrics: '{}', reply: 'null', fingerprint: 'fill-0', lsh: [],
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const cluster = await store.db
    .insertInto('clusters')
    .values({ brand_id: brandId, representative_id: first.id, size: n, sources: ['fill'], first_seen_at: new Date(), last_seen_at: new Date() })
    .returning('id')
    .executeTakeFirstOrThrow();
  for (let from = 1; from < n; from += FILL_BATCH) {
    const to = Math.min(n - 1, from + FILL_BATCH - 1);
    await sql`
      INSERT INTO mentions (source, external_id, brand_id, author, text, content_hash, first_seen_at, updated_at, lang,
        sentiment, sentiment_model, actionable, metrics, reply, fingerprint, lsh, cluster_id)
      SELECT 'fill', 'fill-' || g, ${brandId}, '{}', 'filler ' || g, 'fill-' || g, now(), now(), 'other',
        'unscored', 'none', false, '{}', 'null', md5(g::text),
        ARRAY(SELECT ((random() - 0.5) * 1.8e19)::bigint FROM generate_series(1, ${BANDS_PER_MENTION}) WHERE g > 0),
        ${cluster.id}
      FROM generate_series(${from}::int, ${to}::int) AS g
    `.execute(store.db);
  }
  await sql`ANALYZE mentions`.execute(store.db);
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function print(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

