import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../store/connect.ts';
import { createTestStore } from '../tests/helpers/test-store.ts';
import { buildApp } from './app.ts';
import { PROBLEM_CONTENT_TYPE } from './errors.ts';
import { createBearer, insertBrand, insertMention } from './test-seed.ts';

/** Text PostgreSQL cannot keep (a NUL, a lone surrogate, bytes that are not UTF-8) is a 400 naming the field. */
describe('text the API takes in', () => {
  let store: Store;
  let app: FastifyInstance;
  let writer: { authorization: string };
  let mentionId: string;

  beforeAll(async () => {
    store = await createTestStore();
    app = await buildApp({ db: store.db, storeKind: store.kind, now: () => new Date('2026-03-05T10:00:00Z') });
    writer = await createBearer(store.db, ['read', 'write']);
    const brandId = await insertBrand(store.db, 'Acme');
    mentionId = await insertMention(store.db, { brandId, externalId: 'm1', sentiment: 'negative', text: 'Acme is slow' });
  });
  afterAll(async () => {
    await app.close();
    await store.close();
  });

  const get = (url: string) => app.inject({ method: 'GET', url, headers: writer });
  const post = (url: string, payload: string | Buffer) =>
    app.inject({ method: 'POST', url, headers: { ...writer, 'content-type': 'application/json' }, payload });

  /** The answer is a 400 problem whose detail and only error name the field. */
  const expectRefused = (res: LightMyRequestResponse, path: string, message: string) => {
    expect(res.statusCode, res.body).toBe(400);
    expect(res.headers['content-type']).toContain(PROBLEM_CONTENT_TYPE);
    const problem = res.json() as { status: number; detail: string; errors?: { path: string; message: string }[] };
    expect(problem.status).toBe(400);
    expect(problem.detail).toBe(`${path}: ${message}`);
    expect(problem.errors).toEqual([{ path, message }]);
  };
  const stored = async () => ({
    corrections: Number(
      (await store.db.selectFrom('mention_corrections').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n,
    ),
    mention: await store.db.selectFrom('mentions').select(['sentiment', 'actionable']).where('id', '=', mentionId).executeTakeFirstOrThrow(),
  });

  it.each([
    ['/api/v1/mentions?brand=%00', 'querystring.brand', 'contains a NUL character (at offset 0)'],
    ['/api/v1/mentions?source=vk%00x&limit=5', 'querystring.source', 'contains a NUL character (at offset 2)'],
    ['/api/v1/mentions?brand=Acme&brand=%00', 'querystring.brand.1', 'contains a NUL character (at offset 0)'],
    ['/api/v1/mentions/%00/corrections', 'params.id', 'contains a NUL character (at offset 0)'],
  ])('GET %s names %s', async (url, path, message) => {
    expectRefused(await get(url), path, message);
  });

  it.each([
    ['a byte that starts no character', '/api/v1/mentions?brand=%FF'],
    ['a character cut short', '/api/v1/mentions?brand=Acme%D0'],
    ['an encoded surrogate', '/api/v1/mentions?brand=%ED%A0%80'],
  ])('refuses percent-encoding that is not UTF-8 (%s)', async (_what, url) => {
    expectRefused(await get(url), 'querystring.brand', 'not valid percent-encoded UTF-8');
  });

  it('still takes percent-encoded UTF-8 and + for a space', async () => {
    const res = await get(`/api/v1/mentions?brand=${encodeURIComponent('Acme')}&source=x+y`);
    expect(res.statusCode, res.body).toBe(200);
  });

  it.each([
    ['sentiment', { label: 'positive', note: 'irony\u0000' }, 'body.note', 'contains a NUL character (at offset 5)'],
    ['sentiment', { label: 'positive', by: '\u0000olga' }, 'body.by', 'contains a NUL character (at offset 0)'],
    ['actionable', { actionable: true, note: 'x\ud800y' }, 'body.note', 'is not valid Unicode (a lone surrogate, which UTF-8 cannot hold)'],
  ])('POST a %s correction with %j names the field and stores nothing', async (what, payload, path, message) => {
    const before = await stored();
    expectRefused(await post(`/api/v1/mentions/${mentionId}/${what}`, JSON.stringify(payload)), path, message);
    expect(await stored()).toEqual(before);
    expect(before.corrections).toBe(0);
  });

  it('names a NUL in a key of the body', async () => {
    const res = await post(`/api/v1/mentions/${mentionId}/sentiment`, '{"label":"positive","no\\u0000te":"x"}');
    expectRefused(res, 'body.no\\u0000te', 'the name contains a NUL character (at offset 2)');
  });

  it('refuses a JSON body whose bytes are not UTF-8', async () => {
    const payload = Buffer.concat([Buffer.from('{"label":"positive","note":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    const res = await post(`/api/v1/mentions/${mentionId}/sentiment`, payload);
    expect(res.statusCode, res.body).toBe(400);
    expect(res.headers['content-type']).toContain(PROBLEM_CONTENT_TYPE);
    expect((res.json() as { detail: string }).detail).toBe('body: not valid UTF-8');
    expect((await stored()).corrections).toBe(0);
  });

  it('refuses a NUL in the query preview brand', async () => {
    const res = await post('/api/v1/query/preview', JSON.stringify({ brand: 'Acme\u0000', query: 'acme' }));
    expectRefused(res, 'body.brand', 'contains a NUL character (at offset 4)');
  });

  it('answers a preview query nested too deep with a 400 naming the column', async () => {
    const res = await post('/api/v1/query/preview', JSON.stringify({ brand: 'Acme', query: `${'('.repeat(2000)}acme` }));
    expectRefused(res, 'body.query', 'column 101: nesting deeper than 100 levels (parentheses, NOTs and NEARs inside each other)');
  });

  it('walks a deeply nested body without overflowing the stack', async () => {
    const deep = `${'['.repeat(100_000)}"text"${']'.repeat(100_000)}`;
    const res = await post('/api/v1/query/preview', `{"brand":"Acme","query":"acme","extra":${deep}}`);
    expect(res.statusCode, res.body).toBe(200);
  });

  it('takes ordinary text, astral characters included', async () => {
    const res = await post(`/api/v1/mentions/${mentionId}/sentiment`, JSON.stringify({ label: 'positive', note: 'Ирония 🙂' }));
    expect(res.statusCode, res.body).toBe(200);
  });
});
