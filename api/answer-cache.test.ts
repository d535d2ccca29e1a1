import type { FastifyInstance } from 'fastify';
import { CompiledQuery, Kysely, PostgresDialect, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../store/connect.ts';
import type { Database } from '../store/schema.ts';
import { createTestStore } from '../tests/helpers/test-store.ts';
import { gunzipSync } from 'node:zlib';
import { AnswerCache, acceptsGzip } from './answer-cache.ts';
import { buildApp } from './app.ts';
import { createBearer, insertBrand, insertMention } from './test-seed.ts';

describe('the answer cache', () => {
  let store: Store;
  let app: FastifyInstance;
  let brandId: number;
  let sent: string[] = [];
  const recordingDb = () => new Kysely<Database>({ dialect: new PostgresDialect({ pool: store.pool }), log: (e) => void sent.push(e.query.sql) });

  const snapshot = async () => (await sql<{ s: string }>`SELECT pg_current_snapshot()::text AS s`.execute(store.db)).rows[0]!.s;
  /**
   * Runs `steps` (after `setup`) until nothing else wrote to the database between its first and last step: on a
   * shared PostgreSQL every database's writes change the snapshot, and the other test files write all along.
   */
  async function undisturbed<T>(steps: (attempt: number) => Promise<T>, setup: () => Promise<unknown> = async () => {}): Promise<T> {
    for (let attempt = 0; attempt < 200; attempt++) {
      await setup();
      const before = await snapshot();
      const result = await steps(attempt);
      if ((await snapshot()) === before) return result;
    }
    throw new Error('the database was written by others all along');
  }

  beforeAll(async () => {
    store = await createTestStore();
    // The app's queries through a Kysely that notes them, on the same pool.
    app = await buildApp({ db: recordingDb(), storeKind: store.kind });
    brandId = await insertBrand(store.db, 'Acme');
    for (let i = 0; i < 3; i++) await insertMention(store.db, { brandId, externalId: `m${i}`, sentiment: 'negative' });
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  const get = async (url: string, headers: Record<string, string>) => {
    sent = [];
    const res = await app.inject({ method: 'GET', url, headers });
    return { res, listed: sent.some((q) => /from "mentions"/i.test(q)) };
  };

  it('answers again without reading the mentions while nothing was written, and reads them once something was', async () => {
    const headers = await createBearer(store.db);
    await get('/api/v1/incidents', headers); // the key's first use is written down
    // Each attempt its own page: one that no earlier attempt left in the cache.
    const { url, first, again } = await undisturbed(async (attempt) => {
      const url = `/api/v1/mentions?limit=${10 + attempt}`;
      return { url, first: await get(url, headers), again: await get(url, headers) };
    });
    expect(first.res.statusCode).toBe(200);
    expect(first.listed).toBe(true);
    expect(again.listed).toBe(false);
    expect(again.res.body).toBe(first.res.body);
    expect(again.res.headers['content-type']).toBe(first.res.headers['content-type']);
    expect(again.res.headers.etag).toBe(first.res.headers.etag);
    // A write anywhere in the store: the next answer is built again, and shows it.
    const added = await insertMention(store.db, { brandId, externalId: 'm-new', sentiment: 'positive' });
    const after = await get(url, headers);
    expect(after.listed).toBe(true);
    expect(after.res.json<{ data: { id: string }[] }>().data[0]!.id).toBe(added);
    // A write that was rolled back changes nothing visible, but it took a transaction id: built again, same answer.
    await store.db.transaction().execute(async (trx) => {
      await trx.executeQuery(CompiledQuery.raw(`UPDATE mentions SET text = 'changed' WHERE id = ${added}`));
      throw new Error('rolled back');
    }).catch(() => undefined);
    const rolledBack = await get(url, headers);
    expect(rolledBack.listed).toBe(true);
    expect(rolledBack.res.body).toBe(after.res.body);
  });

  it('builds an answer once for the requests that miss it together', async () => {
    const headers = await createBearer(store.db);
    await get('/api/v1/incidents', headers);
    let n = 0;
    const answers = await undisturbed(
      async () => {
        sent = [];
        return Promise.all(Array.from({ length: 10 }, () => app.inject({ method: 'GET', url: '/api/v1/mentions?limit=3', headers })));
      },
      // A new mention before each attempt: the cached page is out of date for all ten.
      () => insertMention(store.db, { brandId, externalId: `m-together-${n++}`, sentiment: 'neutral' }),
    );
    expect(answers.map((a) => a.statusCode)).toEqual(Array(10).fill(200));
    expect(new Set(answers.map((a) => a.body)).size).toBe(1);
    expect(sent.filter((q) => /from "mentions"/i.test(q))).toHaveLength(1);
  });

  it('keeps each caller\'s answers apart, and refuses a revoked key before looking', async () => {
    const one = await createBearer(store.db);
    const two = await createBearer(store.db);
    await get('/api/v1/incidents', one);
    await get('/api/v1/incidents', two);
    const { url, cached, other } = await undisturbed(async (attempt) => {
      const url = `/api/v1/mentions?limit=${30 + attempt}`;
      await get(url, one);
      return { url, cached: await get(url, one), other: await get(url, two) };
    });
    expect(cached.listed).toBe(false);
    expect(other.listed).toBe(true);
    await store.db.updateTable('api_keys').set({ revoked_at: new Date() }).execute();
    const refused = await get(url, one);
    expect(refused.res.statusCode).toBe(401);
    expect(refused.listed).toBe(false);
  });

  it('sends a clock-reading answer again only within its seconds of the clock', async () => {
    const start = Date.parse('2026-12-01T10:00:00Z');
    let now = new Date(start);
    const clocked = await buildApp({ db: recordingDb(), storeKind: store.kind, now: () => now });
    try {
      const headers = await createBearer(store.db);
      const health = async () => {
        sent = [];
        expect((await clocked.inject({ method: 'GET', url: '/api/v1/targets', headers })).statusCode).toBe(200);
        return sent.some((q) => /from "?targets"?/i.test(q));
      };
      expect(await health()).toBe(true);
      // Each attempt in a 5-second window of its own (the key's use is written again each minute: a write).
      const again = await undisturbed(async (attempt) => {
        now = new Date(start + 10_000 * (attempt + 1) + 1_000);
        await health();
        now = new Date(now.getTime() + 2_000);
        return health();
      });
      expect(again).toBe(false);
      now = new Date(now.getTime() + 5_000);
      expect(await health()).toBe(true);
    } finally {
      await clocked.close();
    }
  });

  it('sends a gzipped answer, with its own ETag, to a client that accepts gzip, built or kept', async () => {
    const headers = await createBearer(store.db);
    for (let i = 0; i < 10; i++) await insertMention(store.db, { brandId, externalId: `m-gz-${i}`, sentiment: 'negative' });
    const url = '/api/v1/mentions?limit=13';
    const plain = await app.inject({ method: 'GET', url, headers });
    expect(plain.statusCode).toBe(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers.vary).toBe('accept-encoding');
    expect(plain.rawPayload.length).toBeGreaterThan(1_024);
    // The first gzipped answer is made from a kept one or a new build, the second from the cache: the same bytes.
    for (const acceptEncoding of ['gzip, deflate, br', 'br;q=1.0, gzip;q=0.8']) {
      const gz = await app.inject({ method: 'GET', url, headers: { ...headers, 'accept-encoding': acceptEncoding } });
      expect(gz.statusCode).toBe(200);
      expect(gz.headers['content-encoding']).toBe('gzip');
      expect(gz.headers.vary).toBe('accept-encoding');
      expect(gz.rawPayload.length).toBeLessThan(plain.rawPayload.length / 2);
      expect(gunzipSync(gz.rawPayload).toString('utf8')).toBe(plain.body);
      expect(gz.headers.etag).not.toBe(plain.headers.etag);
      const unchanged = await app.inject({ method: 'GET', url, headers: { ...headers, 'accept-encoding': 'gzip', 'if-none-match': String(gz.headers.etag) } });
      expect(unchanged.statusCode).toBe(304);
      expect(unchanged.rawPayload.length).toBe(0);
      expect(unchanged.headers['content-encoding']).toBeUndefined();
    }
    const refused = await app.inject({ method: 'GET', url, headers: { ...headers, 'accept-encoding': 'gzip;q=0, identity' } });
    expect(refused.headers['content-encoding']).toBeUndefined();
    expect(refused.body).toBe(plain.body);
    expect(acceptsGzip('GZIP')).toBe(true);
    expect(acceptsGzip('*;q=0.1')).toBe(true);
    expect(acceptsGzip('deflate, br')).toBe(false);
    expect(acceptsGzip(undefined)).toBe(false);
  });

  it('keeps no more than its bytes, dropping the answer used longest ago', async () => {
    const cache = new AnswerCache(8_000);
    const body = Buffer.alloc(1_800, 'x');
    for (const key of ['a', 'b', 'c', 'd']) cache.set(key, { snapshot: '1:1:', body, tag: '"t"' });
    expect(cache.get('a', '1:1:')?.body).toBe(body); // a is now the most recently used
    cache.set('e', { snapshot: '1:1:', body, tag: '"t"' });
    expect(cache.size.bytes).toBeLessThanOrEqual(8_000);
    expect(cache.get('b', '1:1:')).toBeUndefined();
    expect(cache.get('a', '1:1:')).toBeDefined();
    expect(cache.get('a', '2:2:')).toBeUndefined(); // another snapshot: not this answer
    cache.set('big', { snapshot: '1:1:', body: Buffer.alloc(2_200, 'y'), tag: '"t"' }); // over a quarter: not kept
    expect(cache.get('big', '1:1:')).toBeUndefined();
    // A gzipped body is counted with its answer.
    const before = cache.size.bytes;
    const gz = await cache.gzipped('a', cache.get('a', '1:1:')!);
    expect(cache.size.bytes).toBe(before + gz.length);
  });
});
