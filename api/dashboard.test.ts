import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../lib/password.ts';
import type { SentimentLabel } from '../store/schema.ts';
import type { Db, Store } from '../store/connect.ts';
import { createUser } from '../store/users.ts';
import { createTestStore } from '../tests/helpers/test-store.ts';
import { buildApp } from './app.ts';
import { createBearer, insertBrand, insertMention } from './test-seed.ts';

const NOW = new Date('2026-05-11T12:00:00Z');

const counts = (c: Partial<Record<'positive' | 'neutral' | 'negative' | 'mixed' | 'total', number>>) => ({
  positive: 0, neutral: 0, negative: 0, mixed: 0, total: 0, ...c,
});

describe('GET /api/v1/stats/mentions', () => {
  let store: Store;
  let app: FastifyInstance;
  let headers: { authorization: string };
  let clock = NOW;

  beforeAll(async () => {
    store = await createTestStore();
    app = await buildApp({ db: store.db, storeKind: store.kind, now: () => clock });
    headers = await createBearer(store.db);
    const acme = await insertBrand(store.db, 'Acme');
    const bolt = await insertBrand(store.db, 'Bolt');
    const seeds: { id: string; brandId: number; source?: string; sentiment: SentimentLabel; publishedAt: string | null; firstSeenAt?: string }[] = [
      // Almaty is UTC+5: 22:30 on the 10th there (23:30 had the zone kept its old +6).
      { id: 'evening', brandId: acme, sentiment: 'negative', publishedAt: '2026-05-10T17:30:00Z' },
      // The 10th in UTC, but after midnight in Almaty: the 11th there.
      { id: 'after-midnight', brandId: acme, sentiment: 'positive', publishedAt: '2026-05-10T19:30:00Z' },
      // No publication date: counted when first seen, also after Almaty's midnight.
      { id: 'undated', brandId: acme, source: 'app-store', sentiment: 'neutral', publishedAt: null, firstSeenAt: '2026-05-10T20:00:00Z' },
      // Published on the 10th, first seen on the 11th: the publication counts.
      { id: 'late-crawl', brandId: bolt, sentiment: 'mixed', publishedAt: '2026-05-10T10:00:00Z', firstSeenAt: '2026-05-11T10:00:00Z' },
      // Not scored: only in the total.
      { id: 'unscored', brandId: acme, sentiment: 'unscored', publishedAt: '2026-05-11T06:00:00Z' },
      // Before the window, though first seen inside it; and dated after now (clock skew).
      { id: 'old', brandId: acme, sentiment: 'negative', publishedAt: '2026-04-01T00:00:00Z', firstSeenAt: '2026-05-11T09:00:00Z' },
      { id: 'future', brandId: acme, sentiment: 'negative', publishedAt: '2026-05-11T13:00:00Z' },
    ];
    for (const s of seeds) {
      await insertMention(store.db, {
        brandId: s.brandId, externalId: s.id, source: s.source ?? 'rss', sentiment: s.sentiment,
        publishedAt: s.publishedAt === null ? null : new Date(s.publishedAt), firstSeenAt: new Date(s.firstSeenAt ?? s.publishedAt!),
      });
    }
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  const get = (query: string) => app.inject({ method: 'GET', url: `/api/v1/stats/mentions${query}`, headers });

  it("buckets by the local day of the time zone: what is the 10th in UTC is the 11th in Almaty after its midnight", async () => {
    const almaty = await get('?tz=Asia/Almaty&days=2');
    expect(almaty.statusCode, almaty.body).toBe(200);
    expect(almaty.json()).toEqual({
      from: '2026-05-09T19:00:00.000Z',
      to: NOW.toISOString(),
      buckets: [
        { day: '2026-05-10', brand: 'Acme', source: 'rss', ...counts({ negative: 1, total: 1 }) },
        { day: '2026-05-10', brand: 'Bolt', source: 'rss', ...counts({ mixed: 1, total: 1 }) },
        { day: '2026-05-11', brand: 'Acme', source: 'app-store', ...counts({ neutral: 1, total: 1 }) },
        { day: '2026-05-11', brand: 'Acme', source: 'rss', ...counts({ positive: 1, total: 2 }) },
      ],
    });

    const utc = await get('?days=2');
    expect(utc.json()).toEqual({
      from: '2026-05-10T00:00:00.000Z',
      to: NOW.toISOString(),
      buckets: [
        { day: '2026-05-10', brand: 'Acme', source: 'app-store', ...counts({ neutral: 1, total: 1 }) },
        { day: '2026-05-10', brand: 'Acme', source: 'rss', ...counts({ negative: 1, positive: 1, total: 2 }) },
        { day: '2026-05-10', brand: 'Bolt', source: 'rss', ...counts({ mixed: 1, total: 1 }) },
        { day: '2026-05-11', brand: 'Acme', source: 'rss', ...counts({ total: 1 }) },
      ],
    });
  });

  it('takes 30 days by default, and filters by the stored brand and by source', async () => {
    const all = (await get('')).json();
    expect(all.from).toBe('2026-04-12T00:00:00.000Z');
    expect(all.buckets.reduce((n: number, b: { total: number }) => n + b.total, 0)).toBe(5);
    expect((await get('?brand=Bolt&tz=Asia/Almaty')).json().buckets).toEqual([
      { day: '2026-05-10', brand: 'Bolt', source: 'rss', ...counts({ mixed: 1, total: 1 }) },
    ]);
    expect((await get('?source=app-store&tz=Asia/Almaty')).json().buckets).toEqual([
      { day: '2026-05-11', brand: 'Acme', source: 'app-store', ...counts({ neutral: 1, total: 1 }) },
    ]);
    expect((await get('?brand=Nobody')).json().buckets).toEqual([]);
    // A wider window reaches the old mention, on its publication day.
    expect((await get('?days=45')).json().buckets[0]).toEqual({ day: '2026-04-01', brand: 'Acme', source: 'rss', ...counts({ negative: 1, total: 1 }) });
  });

  it('knows a day with a daylight saving change is 23 hours long', async () => {
    // Berlin moved from UTC+1 to UTC+2 at 01:00 UTC on 29 March 2026.
    clock = new Date('2026-03-30T12:00:00Z');
    try {
      const brandId = await insertBrand(store.db, 'Berlin');
      await insertMention(store.db, { brandId, externalId: 'b1', publishedAt: new Date('2026-03-29T21:30:00Z') }); // 23:30 on the 29th
      await insertMention(store.db, { brandId, externalId: 'b2', publishedAt: new Date('2026-03-29T22:30:00Z') }); // 00:30 on the 30th
      const res = (await get('?tz=Europe/Berlin&days=2&brand=Berlin')).json();
      expect(res.from).toBe('2026-03-28T23:00:00.000Z');
      expect(res.buckets.map((b: { day: string; total: number }) => [b.day, b.total])).toEqual([['2026-03-29', 1], ['2026-03-30', 1]]);
    } finally {
      clock = NOW;
    }
  });

  it('refuses an unknown time zone and days out of range', async () => {
    const tz = await get('?tz=Mars/Olympus');
    expect(tz.statusCode).toBe(400);
    expect(tz.json().errors).toEqual([{ path: 'querystring.tz', message: expect.stringMatching(/unknown time zone/) }]);
    expect((await get('?days=0')).statusCode).toBe(400);
    expect((await get('?days=366')).statusCode).toBe(400);
    expect((await get('?days=365')).statusCode).toBe(200);
  });
});

describe('GET /api/v1/stats/stories', () => {
  let store: Store;
  let app: FastifyInstance;
  let headers: { authorization: string };
  const clusters: Record<string, string> = {};
  const representatives: Record<string, string> = {};

  /** A story of mentions (hours before NOW, tone), its cluster row as ingestion keeps it. */
  async function insertStory(db: Db, name: string, brandId: number, members: { hoursAgo: number; sentiment: SentimentLabel; source: string; undated?: boolean }[]) {
    const ids: string[] = [];
    for (const [i, m] of members.entries()) {
      const at = new Date(NOW.getTime() - m.hoursAgo * 3_600_000);
      ids.push(await insertMention(db, {
        brandId, externalId: `${name}-${i}`, source: m.source, sentiment: m.sentiment, publishedAt: m.undated ? null : at, firstSeenAt: at,
      }));
    }
    const seen = members.map((m) => NOW.getTime() - m.hoursAgo * 3_600_000);
    const cluster = await db
      .insertInto('clusters')
      .values({
        brand_id: brandId, representative_id: ids[0]!, size: ids.length, sources: [...new Set(members.map((m) => m.source))].sort(),
        first_seen_at: new Date(Math.min(...seen)), last_seen_at: new Date(Math.max(...seen)),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db.updateTable('mentions').set({ cluster_id: cluster.id }).where('id', 'in', ids).execute();
    clusters[name] = cluster.id;
    representatives[name] = ids[0]!;
  }

  beforeAll(async () => {
    store = await createTestStore();
    app = await buildApp({ db: store.db, storeKind: store.kind, now: () => NOW });
    headers = await createBearer(store.db);
    const acme = await insertBrand(store.db, 'Acme');
    const bolt = await insertBrand(store.db, 'Bolt');
    // s1: three in the week (one undated, counted when seen) and one older; s2 ties with it, and is newer.
    await insertStory(store.db, 's1', acme, [
      { hoursAgo: 200, sentiment: 'negative', source: 'vk' },
      { hoursAgo: 100, sentiment: 'negative', source: 'vk' },
      { hoursAgo: 50, sentiment: 'negative', source: 'telegram', undated: true },
      { hoursAgo: 5, sentiment: 'positive', source: '2gis' },
    ]);
    await insertStory(store.db, 's2', acme, [
      { hoursAgo: 30, sentiment: 'neutral', source: 'rss' },
      { hoursAgo: 20, sentiment: 'positive', source: 'rss' },
      { hoursAgo: 10, sentiment: 'neutral', source: 'rss' },
    ]);
    await insertStory(store.db, 's3', bolt, Array.from({ length: 5 }, (_, i) => ({ hoursAgo: 1 + i, sentiment: 'negative' as const, source: i % 2 ? 'vk' : 'telegram' })));
    await insertStory(store.db, 's4', acme, [{ hoursAgo: 2, sentiment: 'mixed', source: 'vk' }]);
    // A big story from three weeks ago: not this week's.
    await insertStory(store.db, 's5', acme, Array.from({ length: 6 }, (_, i) => ({ hoursAgo: 500 + i, sentiment: 'neutral' as const, source: 'vk' })));
    // Not in any story.
    await insertMention(store.db, { brandId: acme, externalId: 'loose', publishedAt: NOW, firstSeenAt: NOW });
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  const get = async (query: string) => {
    const res = await app.inject({ method: 'GET', url: `/api/v1/stats/stories${query}`, headers });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as { data: { cluster_id: string; mentions_in_window: number; representative: { id: string } }[] };
  };
  const order = (body: Awaited<ReturnType<typeof get>>) => body.data.map((s) => [Object.keys(clusters).find((k) => clusters[k] === s.cluster_id), s.mentions_in_window]);

  it('orders the stories of the last 7 days by their mentions in the window, the newer story first among equals', async () => {
    const body = await get('');
    expect(order(body)).toEqual([['s3', 5], ['s2', 3], ['s1', 3], ['s4', 1]]);
    const s1 = body.data[2]!;
    expect(s1).toEqual({
      cluster_id: clusters.s1,
      size: 4,
      mentions_in_window: 3,
      sources: ['2gis', 'telegram', 'vk'],
      first_seen_at: new Date(NOW.getTime() - 200 * 3_600_000).toISOString(),
      last_seen_at: new Date(NOW.getTime() - 5 * 3_600_000).toISOString(),
      negative_share: 2 / 3,
      representative: expect.objectContaining({ id: representatives.s1, external_id: 's1-0', brand: 'Acme', cluster: { id: clusters.s1, size: 4, representative_id: representatives.s1 } }),
    });
    expect(body.data[0]).toMatchObject({ negative_share: 1, sources: ['telegram', 'vk'] });
    expect(body.data[1]).toMatchObject({ negative_share: 0 });
  });

  it('takes a window, a brand and a limit', async () => {
    expect(order(await get('?days=30'))).toEqual([['s5', 6], ['s3', 5], ['s1', 4], ['s2', 3], ['s4', 1]]);
    expect(order(await get('?limit=2'))).toEqual([['s3', 5], ['s2', 3]]);
    expect(order(await get('?brand=Acme'))).toEqual([['s2', 3], ['s1', 3], ['s4', 1]]);
    expect((await get('?brand=Nobody')).data).toEqual([]);
    for (const bad of ['?limit=51', '?limit=0', '?days=0']) {
      expect((await app.inject({ method: 'GET', url: `/api/v1/stats/stories${bad}`, headers })).statusCode, bad).toBe(400);
    }
  });
});

describe('PATCH /api/v1/session', () => {
  const PASSWORD = 'a long enough password';
  let store: Store;
  let app: FastifyInstance;

  beforeAll(async () => {
    store = await createTestStore();
    app = await buildApp({ db: store.db, storeKind: store.kind, now: () => NOW });
    const hash = await hashPassword(PASSWORD);
    await createUser(store.db, { email: 'agent@acme.kz', role: 'agent', passwordHash: hash, createdBy: 'cli' }, NOW);
    await createUser(store.db, { email: 'viewer@acme.kz', role: 'viewer', passwordHash: hash, createdBy: 'cli', locale: 'en' }, NOW);
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  async function signIn(email: string) {
    const res = await app.inject({ method: 'POST', url: '/api/v1/session', payload: { email, password: PASSWORD } });
    expect(res.statusCode, res.body).toBe(200);
    return { cookie: String(res.headers['set-cookie']).split(';')[0]!, csrf: res.json().csrf_token as string, body: res.json() };
  }

  it("keeps the person's language: the answer, GET /session and the next sign-in show it", async () => {
    const { cookie, csrf, body } = await signIn('agent@acme.kz');
    expect(body.user.locale).toBeNull();
    const patched = await app.inject({ method: 'PATCH', url: '/api/v1/session', headers: { cookie, 'x-csrf-token': csrf }, payload: { locale: 'ru' } });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.headers['cache-control']).toBe('no-store');
    const session = await app.inject({ method: 'GET', url: '/api/v1/session', headers: { cookie } });
    expect(patched.json()).toEqual(session.json());
    expect(session.json()).toEqual({ user: { email: 'agent@acme.kz', role: 'agent', locale: 'ru' }, csrf_token: csrf, expires_at: null });
    expect((await signIn('agent@acme.kz')).body.user.locale).toBe('ru');

    const back = await app.inject({ method: 'PATCH', url: '/api/v1/session', headers: { cookie, 'x-csrf-token': csrf }, payload: { locale: 'en' } });
    expect(back.json().user.locale).toBe('en');
    expect((await app.inject({ method: 'GET', url: '/api/v1/session', headers: { cookie } })).json().user.locale).toBe('en');
  });

  it('lets a viewer choose too, with the CSRF token; refuses other languages', async () => {
    const { cookie, csrf } = await signIn('viewer@acme.kz');
    const noToken = await app.inject({ method: 'PATCH', url: '/api/v1/session', headers: { cookie }, payload: { locale: 'ru' } });
    expect(noToken.statusCode).toBe(403);
    const ok = await app.inject({ method: 'PATCH', url: '/api/v1/session', headers: { cookie, 'x-csrf-token': csrf }, payload: { locale: 'ru' } });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json().user).toEqual({ email: 'viewer@acme.kz', role: 'viewer', locale: 'ru' });
    const german = await app.inject({ method: 'PATCH', url: '/api/v1/session', headers: { cookie, 'x-csrf-token': csrf }, payload: { locale: 'de' } });
    expect(german.statusCode).toBe(400);
  });

  it('refuses an API key: only a signed-in person has a language', async () => {
    for (const scopes of [['read'], ['read', 'write']] as const) {
      const res = await app.inject({ method: 'PATCH', url: '/api/v1/session', headers: await createBearer(store.db, [...scopes]), payload: { locale: 'ru' } });
      expect(res.statusCode, scopes.join()).toBe(400);
      expect(res.json().detail).toBe('Only a signed-in person has a language, not an API key.');
    }
    expect((await app.inject({ method: 'PATCH', url: '/api/v1/session', payload: { locale: 'ru' } })).statusCode).toBe(401);
  });
});
