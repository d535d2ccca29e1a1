import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../store/connect.ts';
import { createTestStore } from '../tests/helpers/test-store.ts';
import { buildApp } from './app.ts';
import { createBearer, insertBrand, insertMention, insertTarget } from './test-seed.ts';

interface MentionJson {
  id: string;
  external_id: string;
  brand: string;
  source: string;
  sentiment: { label: string };
}

describe('GET /api/v1/mentions', () => {
  let store: Store;
  let app: FastifyInstance;
  let headers: { authorization: string };
  const acmeIds: string[] = [];

  beforeAll(async () => {
    store = await createTestStore();
    app = await buildApp({ db: store.db, storeKind: store.kind });
    headers = await createBearer(store.db);
    const acme = await insertBrand(store.db, 'Acme');
    const other = await insertBrand(store.db, 'Other');
    await insertTarget(store.db, { id: 'acme-rss', source: 'rss', brandId: acme });
    const sentiments = ['negative', 'neutral', 'positive', 'negative', 'mixed', 'unscored', 'negative'] as const;
    for (let i = 0; i < 7; i++) {
      acmeIds.push(
        await insertMention(store.db, {
          brandId: acme,
          externalId: `a${i}`,
          source: i % 2 === 0 ? 'rss' : 'app-store',
          targetId: i % 2 === 0 ? 'acme-rss' : null,
          sentiment: sentiments[i],
          // Odd rows have no publication date: `since` falls back to first_seen_at for them.
          publishedAt: i % 2 === 0 ? new Date(Date.UTC(2026, 1, 1 + i)) : null,
          firstSeenAt: new Date(Date.UTC(2026, 1, 10 + i)),
        }),
      );
    }
    await insertMention(store.db, { brandId: other, externalId: 'o1', sentiment: 'negative' });
  });
  afterAll(async () => {
    await app.close();
    await store.close();
  });

  const get = async (query: string) => app.inject({ method: 'GET', url: `/api/v1/mentions${query}`, headers });

  it('walks every mention of a brand once, newest first, with limit 3', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await get(`?brand=Acme&limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.statusCode).toBe(200);
      const body = res.json() as { data: MentionJson[]; next_cursor: string | null; has_more: boolean };
      seen.push(...body.data.map((m) => m.id));
      expect(body.has_more).toBe(body.next_cursor !== null);
      if (pages === 0) {
        // A mention arriving mid-walk is newer than the cursor: it must not shift later pages.
        const acme = (await store.db.selectFrom('brands').select('id').where('name', '=', 'Acme').executeTakeFirstOrThrow()).id;
        await insertMention(store.db, { brandId: acme, externalId: 'late' });
      }
      cursor = body.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([...acmeIds].reverse());
  });

  it('filters by source, sentiment and since (published_at, else first_seen_at)', async () => {
    const bySource = (await get('?brand=Acme&source=app-store')).json() as { data: MentionJson[] };
    expect(bySource.data.map((m) => m.external_id)).toEqual(['a5', 'a3', 'a1']);

    const negative = (await get('?sentiment=negative')).json() as { data: MentionJson[] };
    expect(negative.data.map((m) => m.external_id)).toEqual(['o1', 'a6', 'a3', 'a0']);

    // a4 published Feb 5, a6 published Feb 7; a3 first seen Feb 13, a5 Feb 15; a0/a2 published too early.
    const since = (await get(`?brand=Acme&since=${encodeURIComponent('2026-02-05T00:00:00+00:00')}`)).json() as {
      data: MentionJson[];
    };
    expect(since.data.map((m) => m.external_id)).toEqual(['late', 'a6', 'a5', 'a4', 'a3', 'a1']);
  });

  it('shapes a mention as snake_case JSON with ISO timestamps and string ids', async () => {
    const body = (await get('?brand=Acme&source=rss&limit=200')).json() as { data: Record<string, unknown>[] };
    const a6 = body.data.find((m) => m.external_id === 'a6');
    expect(a6).toEqual({
      id: acmeIds[6],
      source: 'rss',
      external_id: 'a6',
      brand: 'Acme',
      target_id: 'acme-rss',
      url: 'https://example.test/a6',
      author: { name: 'Ann', handle: null, id: null, url: null, followers: null },
      title: null,
      text: 'text of a6',
      rating: null,
      published_at: '2026-02-07T00:00:00.000Z',
      first_seen_at: '2026-02-16T00:00:00.000Z',
      updated_at: '2026-02-16T00:00:00.000Z',
      lang: 'en',
      sentiment: { label: 'negative', score: 0.5, model: 'test-model' },
      actionable: true,
      metrics: {},
      reply: null,
      answered: false,
      details: {},
    });
  });

  it('rejects malformed cursors and bad parameters with 400', async () => {
    const notBase64 = await get('?cursor=%%%');
    expect(notBase64.statusCode).toBe(400);
    const wrongShape = await get(`?cursor=${Buffer.from('{"seq":"1"}').toString('base64url')}`);
    expect(wrongShape.statusCode).toBe(400);
    expect(wrongShape.json().errors).toEqual([{ path: 'querystring.cursor', message: expect.stringMatching(/cursor/) }]);
    const outOfRange = await get(`?cursor=${Buffer.from('{"id":"9999999999999999999"}').toString('base64url')}`);
    expect(outOfRange.statusCode).toBe(400);
    const notJson = await get(`?cursor=${Buffer.from('nope').toString('base64url')}`);
    expect(notJson.statusCode).toBe(400);
    for (const query of ['?limit=0', '?limit=201', '?limit=abc', '?since=yesterday', '?sentiment=bad']) {
      const res = await get(query);
      expect(res.statusCode, query).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
  });

  it('defaults to 50 per page', async () => {
    const body = (await get('')).json() as { data: unknown[]; has_more: boolean; next_cursor: string | null };
    expect(body.data).toHaveLength(9);
    expect(body.has_more).toBe(false);
    expect(body.next_cursor).toBeNull();
  });
});
