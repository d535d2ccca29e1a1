import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../store/connect.ts';
import { createTestStore } from '../tests/helpers/test-store.ts';
import { buildApp } from './app.ts';
import { createBearer, insertBrand, insertMention } from './test-seed.ts';

interface MatchJson {
  id: string;
  source: string;
  url: string | null;
  published_at: string | null;
  title: string | null;
  text: string;
  highlights: { start: number; end: number }[];
  title_highlights: { start: number; end: number }[];
  highlighted: string;
  highlighted_title: string | null;
}

interface PreviewJson {
  query: string;
  scanned: number;
  matched: number;
  data: MatchJson[];
}

describe('POST /api/v1/query/preview', () => {
  let store: Store;
  let app: FastifyInstance;
  let headers: { authorization: string };
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    store = await createTestStore();
    app = await buildApp({ db: store.db, storeKind: store.kind });
    headers = await createBearer(store.db);
    // Our own texts: the brand "Ромашка" is also a flower and a tea. Inserted oldest first.
    const brand = await insertBrand(store.db, 'Ромашка');
    const other = await insertBrand(store.db, 'Лютик');
    const texts: [key: string, text: string][] = [
      ['shop', 'В магазине Ромашка нет сдачи'],
      ['tea', 'Заварила чай с ромашкой'],
      ['closed', 'Магазины Ромашки закрыты на ремонт'],
      ['nothing', 'Ничего общего'],
      ['titled', 'Открылись вчера'],
    ];
    for (const [key, text] of texts) {
      ids[key] = await insertMention(store.db, {
        brandId: brand, externalId: key, text, source: 'telegram', publishedAt: new Date('2026-02-01T10:00:00Z'),
      });
    }
    await store.db.updateTable('mentions').set({ title: 'Ромашка на Абая' }).where('id', '=', ids.titled!).execute();
    await insertMention(store.db, { brandId: other, externalId: 'other', text: 'Ромашка у соседей' });
  });
  afterAll(async () => {
    await app.close();
    await store.close();
  });

  const preview = (body: object, auth: Record<string, string> = headers) =>
    app.inject({ method: 'POST', url: '/api/v1/query/preview', headers: auth, payload: body });

  it("returns the brand's matches newest first, with highlights in text and title", async () => {
    const res = await preview({ brand: 'Ромашка', query: 'ромашка NOT чай' });
    expect(res.statusCode).toBe(200);
    const body = res.json() as PreviewJson;
    expect(body).toMatchObject({ query: 'ромашка NOT чай', scanned: 5, matched: 3 });
    expect(body.data.map((m) => m.id)).toEqual([ids.titled, ids.closed, ids.shop]);
    expect(body.data[0]).toEqual({
      id: ids.titled,
      source: 'telegram',
      url: 'https://example.test/titled',
      published_at: '2026-02-01T10:00:00.000Z',
      title: 'Ромашка на Абая',
      text: 'Открылись вчера',
      highlights: [],
      title_highlights: [{ start: 0, end: 7 }],
      highlighted: 'Открылись вчера',
      highlighted_title: '[[Ромашка]] на Абая',
    });
    expect(body.data[1]).toMatchObject({
      highlights: [{ start: 9, end: 16 }],
      title_highlights: [],
      highlighted: 'Магазины [[Ромашки]] закрыты на ремонт',
      highlighted_title: null,
    });
  });

  it('matches word forms and phrases as the query language does', async () => {
    const forms = (await preview({ brand: 'Ромашка', query: 'магазин' })).json() as PreviewJson;
    expect(forms.data.map((m) => m.highlighted)).toEqual(['[[Магазины]] Ромашки закрыты на ремонт', 'В [[магазине]] Ромашка нет сдачи']);
    const phrase = (await preview({ brand: 'Ромашка', query: '"чай с ромашкой"' })).json() as PreviewJson;
    expect(phrase).toMatchObject({ matched: 1, data: [{ id: ids.tea, highlighted: 'Заварила [[чай с ромашкой]]' }] });
    const exact = (await preview({ brand: 'Ромашка', query: '"чай с ромашка"' })).json() as PreviewJson;
    expect(exact.matched).toBe(0);
  });

  it('returns at most `limit` matches but counts them all', async () => {
    const body = (await preview({ brand: 'Ромашка', query: 'ромашка', limit: 2 })).json() as PreviewJson;
    expect(body).toMatchObject({ scanned: 5, matched: 4 });
    expect(body.data.map((m) => m.id)).toEqual([ids.titled, ids.closed]);
  });

  it('answers a syntax error with 400 naming the column', async () => {
    const res = await preview({ brand: 'Ромашка', query: '(ромашка OR чай' });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const message = 'column 16: expected ")" to close "(" at column 1';
    expect(res.json()).toMatchObject({ status: 400, detail: `body.query: ${message}`, errors: [{ path: 'body.query', message }] });
  });

  it('validates the body like every route', async () => {
    const res = await preview({ brand: 'Ромашка', query: 'ромашка', limit: 500 });
    expect(res.statusCode).toBe(400);
    expect((res.json() as { errors: { path: string }[] }).errors.map((e) => e.path)).toEqual(['body.limit']);
  });

  it('answers an unknown brand with 404', async () => {
    const res = await preview({ brand: 'Nobody', query: 'ромашка' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status: 404, detail: 'There is no brand named "Nobody".' });
  });

  it('needs a key, and a read key is enough though it is a POST', async () => {
    expect((await preview({ brand: 'Ромашка', query: 'ромашка' }, {})).statusCode).toBe(401);
    const writeOnly = await createBearer(store.db, ['write']);
    const res = await preview({ brand: 'Ромашка', query: 'ромашка' }, writeOnly);
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ detail: 'This API key lacks the "read" scope.' });
  });
});
