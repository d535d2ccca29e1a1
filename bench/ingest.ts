import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseReviews } from '../crawlers/app-store/parse.ts';
import { decodeBody } from '../crawlers/http.ts';
import { parseFeed } from '../crawlers/rss/parse.ts';
import type { MentionDraft } from '../crawlers/types.ts';
import { createStageTimings, ingestPage } from '../pipeline/ingest.ts';
import { brandQuery } from '../pipeline/query.ts';
import { prng, shuffle } from '../sentiment/train/sgd.ts';
import { upsertBrand } from '../store/brands.ts';
import { migrateToLatest, openStore, type Store } from '../store/connect.ts';
import { FIXTURE_TEXTS, generateRepostSet } from './dedupe-set.ts';
import { basicTicketPolicy } from '../pipeline/ticket-policy.ts';

const BRAND = 'Ромашка';
const PAGE = 50;

// Our own short texts in the languages our users write in, mixed with the real recorded reviews and news.
const OWN_TEXTS = [
  'Ромашка опять списала деньги дважды, поддержка молчит уже третий день',
  'В Ромашке на Абая отличный сервис, спасибо кассиру Айгерим',
  'Ромашка доставка задержалась на два часа, курьер не отвечает',
  'Ромашка дүкенінде кезек өте ұзын болды, қызмет көрсету нашар',
  'Ромашка ilovasi ishlamayapti, pulimni qaytaring',
  'Romashka app keeps crashing after the last update, please fix it',
  'Ромашка, почему приложение не работает с утра? Верните деньги за заказ',
  'Купила в Ромашке молоко, срок годности истёк вчера. Безобразие!',
];

async function loadBaseDrafts(): Promise<MentionDraft[]> {
  const fixtures = new URL('../crawlers/', import.meta.url);
  const reviews = parseReviews(
    { url: 'https://itunes.apple.com/kz/rss/customerreviews/page=1/id=284815942/sortby=mostrecent/json', status: 200, contentType: 'application/json', body: readFileSync(new URL('app-store/fixtures/customerreviews-us-full.json', fixtures), 'utf8'), cursor: null },
    { fetchedAt: new Date() },
  ).mentions;
  const news = (
    await Promise.all(
      ['guardian-trimmed.rss', 'heise.atom', 'content-encoded.rss'].map(async (file) => {
        const bytes = readFileSync(new URL(`rss/fixtures/${file}`, fixtures));
        return (await parseFeed({ url: `https://example.com/${file}`, status: 200, contentType: null, body: decodeBody(bytes, null), cursor: null }, { fetchedAt: new Date() })).mentions;
      }),
    )
  ).flat();
  const own: MentionDraft[] = OWN_TEXTS.map((text, i) => ({
    source: 'rss', externalId: `own-${i}`, url: null, author: { name: 'bench' }, title: null, text,
    rating: null, publishedAt: '2026-11-20T10:00:00Z', lang: null, metrics: {}, reply: null, parentExternalId: null,
  }));
  return [...reviews, ...news, ...own];
}

/** 10,000 distinct mentions that all name the brand: recorded texts with the brand and a serial woven in. */
export function generateMentions(base: readonly MentionDraft[], n: number): MentionDraft[] {
  return Array.from({ length: n }, (_, i) => {
    const b = base[i % base.length]!;
    return { ...b, externalId: `${b.externalId}#${i}`, text: `${BRAND}: ${b.text} (#${i})`, publishedAt: b.publishedAt };
  });
}

export async function openBenchStore(kind: 'pglite' | 'postgres', databaseUrl: string | undefined): Promise<{ store: Store; cleanup: () => Promise<void> }> {
  if (kind === 'pglite') {
    const dir = mkdtempSync(join(tmpdir(), 'earshot-bench-'));
    const store = await openStore({ dataDir: dir });
    return { store, cleanup: async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); } };
  }
  const admin = await openStore({ databaseUrl });
  const name = `earshot_bench_${process.pid}`;
  await admin.pool.query(`DROP DATABASE IF EXISTS ${name}`);
  await admin.pool.query(`CREATE DATABASE ${name}`);
  const url = new URL(databaseUrl!);
  url.pathname = `/${name}`;
  const store = await openStore({ databaseUrl: url.toString() });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await admin.pool.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.close();
    },
  };
}

const POLICY = basicTicketPolicy({ defaultTeam: 'support', helpdesks: [{ id: 'desk' }], channels: [{ id: 'ops', events: ['ticket.created'] }] });

export type IngestMix = 'realistic' | 'viral';

/**
 * realistic: most mentions tell a story of their own (real fixture texts, their words shuffled so that each
 * is new), among the repost set's stories with their copies. viral: the recorded texts over and over, each
 * with a serial, so every mention joins one of a few huge stories (the worst case of clustering).
 */
export async function mixMentions(mix: IngestMix, n: number, seed = 1): Promise<MentionDraft[]> {
  const draft = (externalId: string, text: string): MentionDraft => ({
    source: 'rss', externalId, url: null, author: { name: 'bench' }, title: null, text: `${BRAND}: ${text}`,
    rating: null, publishedAt: '2026-11-20T10:00:00Z', lang: null, metrics: {}, reply: null, parentExternalId: null,
  });
  if (mix === 'viral') return generateMentions(await loadBaseDrafts(), n);
  const rng = prng(seed);
  const stories = generateRepostSet({ seed }).slice(0, Math.floor(n / 5)).map((item) => draft(`story-${item.id}`, item.text));
  const singles = Array.from({ length: n - stories.length }, (_, i) => {
    const words = FIXTURE_TEXTS[i % FIXTURE_TEXTS.length]!.split(/\s+/);
    return draft(`single-${i}`, shuffle(words, rng).join(' '));
  });
  // Stories and their copies arrive spread among the rest, as a crawl meets them.
  return shuffle([...stories, ...singles], rng);
}

export async function benchIngest(opts: { n: number; databaseUrl: string | undefined; mixes: readonly IngestMix[]; only?: string | undefined }): Promise<void> {
  const kinds = (opts.databaseUrl ? (['pglite', 'postgres'] as const) : (['pglite'] as const)).filter((k) => !opts.only || k === opts.only);
  for (const mix of opts.mixes) {
    const drafts = await mixMentions(mix, opts.n);
    for (const kind of kinds) {
      const pipeline = await runPipeline(kind, opts.databaseUrl, drafts);
      print({ bench: 'ingest', db: kind, mix, ...pipeline.line });
      const floor = await runFloor(kind, opts.databaseUrl, pipeline.rows);
      print({ bench: 'ingest-floor', db: kind, mix, ...floor, pipeline_share: round(pipeline.line.mentions_per_s / floor.mentions_per_s) });
    }
  }
}

/** What the pipeline wrote, table by table: the floor inserts exactly these rows. */
interface WrittenRows {
  mentions: Record<string, unknown>[];
  clusters: Record<string, unknown>[];
  mention_brands: Record<string, unknown>[];
  tickets: Record<string, unknown>[];
  outbox: Record<string, unknown>[];
  alerts: Record<string, unknown>[];
}

/** The crawl's path, page by page: normalize, match, language, sentiment, cluster, store, tickets, outbox. */
async function runPipeline(kind: 'pglite' | 'postgres', databaseUrl: string | undefined, drafts: readonly MentionDraft[]) {
  const { store, cleanup } = await openBenchStore(kind, databaseUrl);
  try {
    await migrateToLatest(store.db);
    const now = () => new Date();
    const brand = await upsertBrand(store.db, { name: BRAND, keywords: [BRAND, 'romashka'] }, now());
    const matcher = brandQuery(brand);
    const scope = { brands: [{ brand, matcher }], targetId: null };
    await ingestPage({ db: store.db, now, policy: POLICY }, drafts.slice(0, PAGE).map((d) => ({ ...d, externalId: `warm-${d.externalId}` })), scope);
    const timings = createStageTimings();
    let stored = 0;
    let tickets = 0;
    const started = performance.now();
    for (let i = 0; i < drafts.length; i += PAGE) {
      const counts = await ingestPage({ db: store.db, now, policy: POLICY, timings }, drafts.slice(i, i + PAGE), scope);
      stored += counts.new;
      tickets += counts.tickets;
    }
    const seconds = (performance.now() - started) / 1000;
    const { count: clusters } = await store.db.selectFrom('clusters').select((eb) => eb.fn.countAll<string>().as('count')).executeTakeFirstOrThrow();
    const perThousand = (ms: number) => round((ms * 1000) / stored);
    const { lookup, ...serial } = timings;
    const line = {
      mentions: stored, clusters: Number(clusters), tickets, page_size: PAGE, seconds: round(seconds), mentions_per_s: Math.round(stored / seconds),
      // Milliseconds per 1,000 mentions. `lookup` (which items are known, stored candidates) runs while the
      // items are scored; `lookup_wait` is what scoring did not cover; `other` is what no stage holds
      // (transactions, crawl bookkeeping).
      ms_per_1000: {
        select: perThousand(timings.select), score: perThousand(timings.score), lookup: perThousand(lookup),
        lookup_wait: perThousand(timings.lookupWait), cluster: perThousand(timings.cluster), write: perThousand(timings.write),
        tickets: perThousand(timings.tickets),
        other: perThousand(seconds * 1000 - Object.values(serial).reduce((a, b) => a + b, 0)),
      },
    };
    return { line, rows: await readWritten(store) };
  } finally {
    await cleanup();
  }
}

async function readWritten(store: Store): Promise<WrittenRows> {
  const all = async (table: string, order: string) => (await store.pool.query(`SELECT * FROM ${table} ORDER BY ${order}`)).rows as Record<string, unknown>[];
  const mentions = (await all('mentions', 'id')).map(({ search: _search, ...row }) => row);
  return {
    mentions,
    clusters: await all('clusters', 'id'),
    mention_brands: await all('mention_brands', 'mention_id, brand_id'),
    tickets: await all('tickets', 'id'),
    outbox: await all('outbox', 'id'),
    alerts: await all('alerts', 'id'),
  };
}

// Rows per transaction of the floor: multi-row INSERTs of this many mentions with everything that goes with them.
const FLOOR_BATCH = Number(process.env.BENCH_FLOOR_BATCH ?? 500);

/**
 * The floor: the same rows written as multi-row INSERTs, FLOOR_BATCH mentions (and their clusters, brand links,
 * tickets, outbox and alert rows) per transaction, with nothing computed.
 */
async function runFloor(kind: 'pglite' | 'postgres', databaseUrl: string | undefined, rows: WrittenRows) {
  const { store, cleanup } = await openBenchStore(kind, databaseUrl);
  try {
    await migrateToLatest(store.db);
    await upsertBrand(store.db, { name: BRAND, keywords: [BRAND, 'romashka'] }, new Date());
    const json = (row: Record<string, unknown>, columns: readonly string[]) =>
      Object.fromEntries(Object.entries(row).map(([k, v]) => [k, columns.includes(k) ? JSON.stringify(v) : v]));
    const byMention = <T extends Record<string, unknown>>(list: T[], key: string) => {
      const map = new Map<string, T[]>();
      for (const row of list) {
        const id = String(row[key]);
        if (!map.has(id)) map.set(id, []);
        map.get(id)!.push(row);
      }
      return map;
    };
    const clustersByRep = byMention(rows.clusters, 'representative_id');
    const linksByMention = byMention(rows.mention_brands, 'mention_id');
    const ticketsByMention = byMention(rows.tickets, 'mention_id');
    const outboxByTicket = byMention(rows.outbox, 'ticket_id');
    const alertsByOutbox = byMention(rows.alerts, 'outbox_id');
    // Tables in this order keep every foreign key satisfied (mentions.cluster_id is checked at commit).
    const insert = async (trx: Store['db'], table: string, values: Record<string, unknown>[]) => {
      if (values.length > 0) await trx.insertInto(table as 'mentions').values(values as never).execute();
    };
    const started = performance.now();
    for (let i = 0; i < rows.mentions.length; i += FLOOR_BATCH) {
      const mentions = rows.mentions.slice(i, i + FLOOR_BATCH);
      const ids = mentions.map((m) => String(m.id));
      const tickets = ids.flatMap((id) => ticketsByMention.get(id) ?? []);
      const outbox = tickets.flatMap((t) => outboxByTicket.get(String(t.id)) ?? []);
      await store.db.transaction().execute(async (trx) => {
        await insert(trx, 'mentions', mentions.map((m) => json(m, ['author', 'metrics', 'reply', 'details'])));
        await insert(trx, 'clusters', ids.flatMap((id) => clustersByRep.get(id) ?? []));
        await insert(trx, 'mention_brands', ids.flatMap((id) => linksByMention.get(id) ?? []));
        await insert(trx, 'tickets', tickets);
        await insert(trx, 'outbox', outbox.map((o) => json(o, ['payload'])));
        await insert(trx, 'alerts', outbox.flatMap((o) => alertsByOutbox.get(String(o.id)) ?? []));
      });
    }
    const seconds = (performance.now() - started) / 1000;
    return { mentions: rows.mentions.length, batch: FLOOR_BATCH, seconds: round(seconds), mentions_per_s: Math.round(rows.mentions.length / seconds) };
  } finally {
    await cleanup();
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function print(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}
