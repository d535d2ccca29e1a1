import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../store/connect.ts';
import { createTestStore } from '../tests/helpers/test-store.ts';
import { buildApp } from './app.ts';
import { createBearer, insertBrand, insertMention, insertTicket } from './test-seed.ts';

const NOW = new Date('2026-03-31T00:00:00Z');
const T0 = Date.parse('2026-03-10T00:00:00Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000);

interface TicketSeed {
  brand: 'Acme' | 'Bolt';
  team: string;
  source: string;
  publishedAt: Date | null;
  firstSeenAt?: Date;
  createdAt: Date;
  firstResponseAt: Date | null;
  /** The brand's answer date as a crawler stored it; undefined: no answer at all. */
  answerAt?: string | null;
}

// Durations in seconds, for the tickets of March (the default period):
//   #  team    source       brand  publish→ticket  ticket→response  publish→answer
//   1  almaty  2gis         Acme    600            300              1800
//   2  almaty  google-play  Acme   1200            900              -  ('yesterday' is no date)
//   3  almaty  2gis         Bolt   1800 (seen)     -                -  (no publication date)
//   4  astana  2gis         Bolt   2400           3600                 0 (answered 10 min before publication)
//   5  astana  google-play  Acme      0 (skew)    1500              3600 (offset +02:00)
//   6  astana  2gis         Acme   3000            -                -  (30 February)
const SEEDS: TicketSeed[] = [
  { brand: 'Acme', team: 'almaty', source: '2gis', publishedAt: at(0), createdAt: at(10), firstResponseAt: at(15), answerAt: '2026-03-10T00:30:00.000Z' },
  { brand: 'Acme', team: 'almaty', source: 'google-play', publishedAt: at(60), createdAt: at(80), firstResponseAt: at(95), answerAt: 'yesterday' },
  { brand: 'Bolt', team: 'almaty', source: '2gis', publishedAt: null, firstSeenAt: at(120), createdAt: at(150), firstResponseAt: null, answerAt: '2026-03-10T03:00:00Z' },
  { brand: 'Bolt', team: 'astana', source: '2gis', publishedAt: at(180), createdAt: at(220), firstResponseAt: at(280), answerAt: '2026-03-10T02:50:00Z' },
  { brand: 'Acme', team: 'astana', source: 'google-play', publishedAt: at(240), createdAt: at(235), firstResponseAt: at(260), answerAt: '2026-03-10T07:00:00+02:00' },
  { brand: 'Acme', team: 'astana', source: '2gis', publishedAt: at(300), createdAt: at(350), firstResponseAt: null, answerAt: '2026-02-30T10:00:00Z' },
  // Just outside the default period on either side: [since, until) keeps neither.
  { brand: 'Acme', team: 'almaty', source: '2gis', publishedAt: new Date('2026-02-01T00:00:00Z'), createdAt: new Date('2026-02-28T23:59:59Z'), firstResponseAt: null },
  { brand: 'Bolt', team: 'astana', source: 'rss', publishedAt: new Date('2026-03-01T00:00:00Z'), createdAt: NOW, firstResponseAt: NOW, answerAt: null },
];

type Triple = [count: number, p50: number | null, p90: number | null];

function figures(tickets: number, publishToTicket: Triple, firstResponse: [...Triple, unanswered: number], publishToAnswer: Triple) {
  const duration = ([count, p50, p90]: Triple) => ({ count, p50_seconds: p50, p90_seconds: p90 });
  return {
    tickets,
    publish_to_ticket: duration(publishToTicket),
    ticket_to_first_response: { ...duration([firstResponse[0], firstResponse[1], firstResponse[2]]), unanswered: firstResponse[3] },
    publish_to_answer: duration(publishToAnswer),
  };
}

const MARCH_TOTAL = figures(6, [6, 1500, 2700], [4, 1200, 2970, 2], [3, 1800, 3240]);
const MARCH = { since: '2026-03-01T00:00:00.000Z', until: '2026-03-31T00:00:00.000Z' };

describe('GET /api/v1/stats/response-times', () => {
  let store: Store;
  let app: FastifyInstance;
  let headers: { authorization: string };

  beforeAll(async () => {
    store = await createTestStore();
    app = await buildApp({ db: store.db, storeKind: store.kind, now: () => NOW });
    headers = await createBearer(store.db);
    const brands = { Acme: await insertBrand(store.db, 'Acme'), Bolt: await insertBrand(store.db, 'Bolt') };
    for (const [i, seed] of SEEDS.entries()) {
      const brandId = brands[seed.brand];
      const mentionId = await insertMention(store.db, {
        brandId, externalId: `t${i + 1}`, source: seed.source, publishedAt: seed.publishedAt, firstSeenAt: seed.firstSeenAt ?? seed.createdAt,
      });
      if (seed.answerAt !== undefined) {
        await store.db.updateTable('mentions').set({ reply: JSON.stringify({ text: 'We are on it', at: seed.answerAt }) }).where('id', '=', mentionId).execute();
      }
      const ticket = await insertTicket(store.db, { mentionId, brandId });
      await store.db
        .updateTable('tickets')
        .set({ team: seed.team, created_at: seed.createdAt, updated_at: seed.createdAt, first_response_at: seed.firstResponseAt })
        .where('id', '=', ticket.id)
        .execute();
    }
  });
  afterAll(async () => {
    await app.close();
    await store.close();
  });

  const get = async (query: string) => {
    const res = await app.inject({ method: 'GET', url: `/api/v1/stats/response-times?${query}`, headers });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as Record<string, unknown>;
  };

  it('groups by team over the last 30 days by default', async () => {
    expect(await get('by=team')).toEqual({
      ...MARCH,
      by: 'team',
      groups: [
        { key: 'almaty', ...figures(3, [3, 1200, 1680], [2, 600, 840, 1], [1, 1800, 1800]) },
        { key: 'astana', ...figures(3, [3, 2400, 2880], [2, 2550, 3390, 1], [2, 1800, 3240]) },
      ],
      total: MARCH_TOTAL,
    });
  });

  it('groups by source', async () => {
    expect(await get('by=source')).toEqual({
      ...MARCH,
      by: 'source',
      groups: [
        { key: '2gis', ...figures(4, [4, 2100, 2820], [2, 1950, 3270, 2], [2, 900, 1620]) },
        { key: 'google-play', ...figures(2, [2, 600, 1080], [2, 1200, 1440, 0], [1, 3600, 3600]) },
      ],
      total: MARCH_TOTAL,
    });
  });

  it('groups by brand name', async () => {
    expect(await get('by=brand')).toEqual({
      ...MARCH,
      by: 'brand',
      groups: [
        { key: 'Acme', ...figures(4, [4, 900, 2460], [3, 900, 1380, 1], [2, 2700, 3420]) },
        { key: 'Bolt', ...figures(2, [2, 2100, 2340], [1, 3600, 3600, 1], [1, 0, 0]) },
      ],
      total: MARCH_TOTAL,
    });
  });

  it('keeps the tickets opened in [since, until), whatever the offset of the bounds', async () => {
    // 01:20Z is ticket 2's opening (kept), 03:55Z ticket 5's (left out).
    const body = await get(`by=team&since=${encodeURIComponent('2026-03-10T06:20:00+05:00')}&until=2026-03-10T03:55:00Z`);
    expect(body).toEqual({
      since: '2026-03-10T01:20:00.000Z',
      until: '2026-03-10T03:55:00.000Z',
      by: 'team',
      groups: [
        { key: 'almaty', ...figures(2, [2, 1500, 1740], [1, 900, 900, 1], [0, null, null]) },
        { key: 'astana', ...figures(1, [1, 2400, 2400], [1, 3600, 3600, 0], [1, 0, 0]) },
      ],
      total: figures(3, [3, 1800, 2280], [2, 2250, 3330, 1], [1, 0, 0]),
    });
  });

  it('defaults since to 30 days before an explicit until', async () => {
    const body = await get('by=source&until=2026-03-31T00:00:01Z');
    expect(body.since).toBe('2026-03-01T00:00:01.000Z');
    expect((body.groups as { key: string }[]).map((g) => g.key)).toEqual(['2gis', 'google-play', 'rss']);
    expect(body.total).toMatchObject({ tickets: 7, ticket_to_first_response: { count: 5, unanswered: 2 } });
  });

  it('owes no answer to a ticket set aside as spam or not actionable', async () => {
    const before = (await get('by=team')) as { total: { ticket_to_first_response: { unanswered: number } } };
    const open = await store.db.selectFrom('tickets').select(['id', 'status']).where('first_response_at', 'is', null).orderBy('id').executeTakeFirstOrThrow();
    await store.db.updateTable('tickets').set({ status: 'ignored' }).where('id', '=', open.id).execute();
    try {
      const after = (await get('by=team')) as typeof before;
      expect(after.total.ticket_to_first_response.unanswered).toBe(before.total.ticket_to_first_response.unanswered - 1);
    } finally {
      await store.db.updateTable('tickets').set({ status: open.status }).where('id', '=', open.id).execute();
    }
  });

  it('answers an empty period with no groups and a total of zeros and nulls', async () => {
    expect(await get('by=brand&since=2026-01-01T00:00:00Z&until=2026-01-02T00:00:00Z')).toEqual({
      since: '2026-01-01T00:00:00.000Z',
      until: '2026-01-02T00:00:00.000Z',
      by: 'brand',
      groups: [],
      total: figures(0, [0, null, null], [0, null, null, 0], [0, null, null]),
    });
  });

  it('rejects a bad or missing by, a date without offset and a backwards period as problem+json', async () => {
    const cases: [string, string][] = [
      ['by=priority', 'querystring.by'],
      ['', 'querystring.by'],
      ['by=team&since=2026-03-01T00:00:00', 'querystring.since'],
      ['by=team&since=2026-03-02T00:00:00Z&until=2026-03-02T00:00:00Z', 'querystring.since'],
      ['by=team&since=2026-04-01T00:00:00Z', 'querystring.since'],
    ];
    for (const [query, path] of cases) {
      const res = await app.inject({ method: 'GET', url: `/api/v1/stats/response-times?${query}`, headers });
      expect(res.statusCode, query).toBe(400);
      expect(res.headers['content-type'], query).toContain('application/problem+json');
      expect(res.json().errors.map((e: { path: string }) => e.path), query).toEqual([path]);
    }
  });

  it('needs an API key; the read scope is enough', async () => {
    expect((await app.inject({ method: 'GET', url: '/api/v1/stats/response-times?by=team' })).statusCode).toBe(401);
    const res = await app.inject({ method: 'GET', url: '/api/v1/stats/response-times?by=team', headers: await createBearer(store.db, ['read']) });
    expect(res.statusCode).toBe(200);
  });
});
