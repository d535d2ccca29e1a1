import type { FastifyInstance } from 'fastify';
import { CompiledQuery, Kysely, PostgresDialect } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../store/connect.ts';
import type { Database } from '../store/schema.ts';
import { createTestStore } from '../tests/helpers/test-store.ts';
import { AnswerCache } from './answer-cache.ts';
import { buildApp } from './app.ts';
import { createBearer, insertBrand, insertMention } from './test-seed.ts';

describe('the answer cache', () => {
  let store: Store;
  let app: FastifyInstance;
  let brandId: number;
  let sent: string[] = [];

  beforeAll(async () => {
    store = await createTestStore();
    // The app's queries through a Kysely that notes them, on the same pool.
    const recording = new Kysely<Database>({ dialect: new PostgresDialect({ pool: store.pool }), log: (e) => void sent.push(e.query.sql) });
    app = await buildApp({ db: recording, storeKind: store.kind });
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
    const first = await get('/api/v1/mentions?limit=2', headers);
    expect(first.res.statusCode).toBe(200);
    expect(first.listed).toBe(true);
    const again = await get('/api/v1/mentions?limit=2', headers);
    expect(again.listed).toBe(false);
    expect(again.res.body).toBe(first.res.body);
    expect(again.res.headers['content-type']).toBe(first.res.headers['content-type']);
    expect(again.res.headers.etag).toBe(first.res.headers.etag);
    // Another page is its own answer.
    expect((await get('/api/v1/mentions?limit=1', headers)).listed).toBe(true);
    // A write anywhere in the store: the next answer is built again, and shows it.
    const added = await insertMention(store.db, { brandId, externalId: 'm-new', sentiment: 'positive' });
    const after = await get('/api/v1/mentions?limit=2', headers);
    expect(after.listed).toBe(true);
    expect(after.res.json<{ data: { id: string }[] }>().data[0]!.id).toBe(added);
    // A write that was rolled back changes nothing visible, but it took a transaction id: built again, same answer.
    await store.db.transaction().execute(async (trx) => {
      await trx.executeQuery(CompiledQuery.raw(`UPDATE mentions SET text = 'changed' WHERE id = ${added}`));
      await trx.executeQuery(CompiledQuery.raw('SELECT 1/0')).catch(() => undefined);
    }).catch(() => undefined);
    const rolledBack = await get('/api/v1/mentions?limit=2', headers);
    expect(rolledBack.listed).toBe(true);
    expect(rolledBack.res.body).toBe(after.res.body);
  });

  it('builds an answer once for the requests that miss it together', async () => {
    const headers = await createBearer(store.db);
    await get('/api/v1/mentions?limit=3', headers);
    await insertMention(store.db, { brandId, externalId: 'm-together', sentiment: 'neutral' });
    sent = [];
    const answers = await Promise.all(Array.from({ length: 10 }, () => app.inject({ method: 'GET', url: '/api/v1/mentions?limit=3', headers })));
    expect(answers.map((a) => a.statusCode)).toEqual(Array(10).fill(200));
    expect(new Set(answers.map((a) => a.body)).size).toBe(1);
    expect(sent.filter((q) => /from "mentions"/i.test(q))).toHaveLength(1);
  });

  it('keeps each caller\'s answers apart, and refuses a revoked key before looking', async () => {
    const one = await createBearer(store.db);
    const two = await createBearer(store.db);
    await get('/api/v1/mentions', one);
    await get('/api/v1/mentions', two);
    await get('/api/v1/mentions', one);
    expect((await get('/api/v1/mentions', one)).listed).toBe(false);
    await store.db.updateTable('api_keys').set({ revoked_at: new Date() }).execute();
    const refused = await get('/api/v1/mentions', one);
    expect(refused.res.statusCode).toBe(401);
    expect(refused.listed).toBe(false);
  });

  it('keeps no more than its bytes, dropping the answer used longest ago', () => {
    const cache = new AnswerCache(4_000);
    const body = 'x'.repeat(900);
    for (const key of ['a', 'b', 'c', 'd']) cache.set(key, { snapshot: '1:1:', body, tag: '"t"' });
    expect(cache.get('a', '1:1:')?.body).toBe(body); // a is now the most recently used
    cache.set('e', { snapshot: '1:1:', body, tag: '"t"' });
    expect(cache.size.bytes).toBeLessThanOrEqual(4_000);
    expect(cache.get('b', '1:1:')).toBeUndefined();
    expect(cache.get('a', '1:1:')).toBeDefined();
    expect(cache.get('a', '2:2:')).toBeUndefined(); // another snapshot: not this answer
    cache.set('big', { snapshot: '1:1:', body: 'y'.repeat(2_000), tag: '"t"' }); // over a quarter: not kept
    expect(cache.get('big', '1:1:')).toBeUndefined();
  });
});
