import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseReviews } from '../crawlers/app-store/parse.ts';
import { decodeBody } from '../crawlers/http.ts';
import { parseFeed } from '../crawlers/rss/parse.ts';
import type { MentionDraft } from '../crawlers/types.ts';
import { prepareMentions } from '../pipeline/ingest.ts';
import { brandQuery } from '../pipeline/query.ts';
import { ingestPage } from '../scheduler/run-crawl.ts';
import { upsertBrand } from '../store/brands.ts';
import { migrateToLatest, openStore, type Store } from '../store/connect.ts';

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

export async function benchIngest(opts: { n: number; databaseUrl: string | undefined }): Promise<void> {
  const drafts = generateMentions(await loadBaseDrafts(), opts.n);
  const kinds: ('pglite' | 'postgres')[] = opts.databaseUrl ? ['pglite', 'postgres'] : ['pglite'];
  for (const kind of kinds) {
    // Pipeline: normalize, match, language, sentiment, upsert, tickets, outbox: the crawl path, page by page.
    {
      const { store, cleanup } = await openBenchStore(kind, opts.databaseUrl);
      await migrateToLatest(store.db);
      const now = () => new Date();
      const brand = await upsertBrand(store.db, { name: BRAND, keywords: [BRAND, 'romashka'] }, now());
      const matcher = brandQuery(brand);
      const policy = { defaultTeam: 'support', helpdesks: [{ id: 'desk' }], channels: [{ id: 'ops', events: ['ticket.created'] }] };
      await ingestPage({ db: store.db, now, policy }, generateMentions(drafts.slice(0, PAGE), PAGE).map((d) => ({ ...d, externalId: `warm-${d.externalId}` })), { brands: [{ brand, matcher }], targetId: null });
      let stored = 0;
      let tickets = 0;
      const started = performance.now();
      for (let i = 0; i < drafts.length; i += PAGE) {
        const counts = await ingestPage({ db: store.db, now, policy }, drafts.slice(i, i + PAGE), { brands: [{ brand, matcher }], targetId: null });
        stored += counts.new;
        tickets += counts.tickets;
      }
      const seconds = (performance.now() - started) / 1000;
      print({ bench: 'ingest', db: kind, mentions: stored, tickets, page_size: PAGE, seconds: round(seconds), mentions_per_s: Math.round(stored / seconds) });
      await cleanup();
    }
    // Raw: the same rows, already prepared, in 500-row multi-row INSERTs: the floor the pipeline sits on.
    {
      const { store, cleanup } = await openBenchStore(kind, opts.databaseUrl);
      await migrateToLatest(store.db);
      const brand = await upsertBrand(store.db, { name: BRAND, keywords: [BRAND] }, new Date());
      const rows = prepareMentions(drafts, { brands: [{ id: brand.id, matcher: null }], targetId: null }, new Date()).rows;
      await store.db.insertInto('mentions').values(rows.slice(0, 50).map((r) => ({ ...r, external_id: `warm-${r.external_id}` }))).execute();
      const started = performance.now();
      for (let i = 0; i < rows.length; i += 500) {
        await store.db.transaction().execute((trx) => trx.insertInto('mentions').values(rows.slice(i, i + 500)).execute());
      }
      const seconds = (performance.now() - started) / 1000;
      print({ bench: 'raw-insert', db: kind, mentions: rows.length, batch: 500, seconds: round(seconds), mentions_per_s: Math.round(rows.length / seconds) });
      await cleanup();
    }
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function print(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}
