import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../store/connect.ts';
import { createTestStore } from '../tests/helpers/test-store.ts';
import { buildApp } from './app.ts';
import { createBearer, insertBrand, insertMention, insertOutbox, insertTicket, insertTicketInTransaction } from './test-seed.ts';

interface FeedJson {
  data: { id: string; seq: string; status: string; deliveries: unknown[]; mention: { id: string } }[];
  next_cursor: string;
  has_more: boolean;
}

describe('GET /api/v1/tickets (helpdesk change feed)', () => {
  let store: Store;
  let app: FastifyInstance;
  let headers: { authorization: string };
  let brandId: number;
  let mentionCounter = 0;

  const newMention = () =>
    insertMention(store.db, { brandId, externalId: `m${mentionCounter++}`, sentiment: 'negative', actionReasons: ['legal_threat', 'complaint'] });
  const poll = async (cursor: string | null, query = '') => {
    const url = `/api/v1/tickets?${cursor ? `cursor=${cursor}&` : ''}${query}`;
    const res = await app.inject({ method: 'GET', url, headers });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as FeedJson;
  };

  beforeAll(async () => {
    store = await createTestStore();
    app = await buildApp({ db: store.db, storeKind: store.kind });
    headers = await createBearer(store.db);
    brandId = await insertBrand(store.db, 'Acme');
  });
  afterAll(async () => {
    await app.close();
    await store.close();
  });

  it('walks 7 tickets in seq order with limit 3, then polls an empty page with the same cursor', async () => {
    const created: string[] = [];
    for (let i = 0; i < 7; i++) {
      const ticket = await insertTicket(store.db, { mentionId: await newMention(), brandId, status: i === 2 ? 'solved' : 'new' });
      created.push(ticket.id);
    }
    await insertOutbox(store.db, { messageId: 'push-1', ticketId: created[0], status: 'dead', attempts: 8, lastStatus: 502, lastError: 'bad gateway' });
    await insertOutbox(store.db, { messageId: 'alert-1', ticketId: created[0], destinationKind: 'channel', destinationId: 'tg-support', status: 'delivered', attempts: 1, lastStatus: 200 });

    const seen: FeedJson['data'] = [];
    let cursor: string | null = null;
    const pageSizes: number[] = [];
    for (;;) {
      const page = await poll(cursor, 'limit=3');
      pageSizes.push(page.data.length);
      seen.push(...page.data);
      cursor = page.next_cursor;
      expect(cursor).toBeTruthy();
      if (!page.has_more) break;
    }
    expect(pageSizes).toEqual([3, 3, 1]);
    expect(seen.map((t) => t.id)).toEqual(created);
    const seqs = seen.map((t) => BigInt(t.seq));
    expect(seqs).toEqual([...seqs].sort((a, b) => (a < b ? -1 : 1)));

    const empty = await poll(cursor, 'limit=3');
    expect(empty).toEqual({ data: [], next_cursor: cursor, has_more: false });
    expect((await poll(empty.next_cursor)).next_cursor).toBe(cursor);

    const later = await insertTicket(store.db, { mentionId: await newMention(), brandId });
    const next = await poll(cursor);
    expect(next.data.map((t) => t.id)).toEqual([later.id]);

    const first = seen[0] as unknown as Record<string, unknown>;
    expect(first).toMatchObject({
      id: created[0],
      status: 'new',
      priority: 'normal',
      team: 'support',
      brand: 'Acme',
      created_at: '2026-03-01T12:00:00.000Z',
      mention: {
        source: 'rss',
        url: expect.stringMatching(/^https:\/\/example\.test\//),
        author: { name: 'Ann', handle: null, id: null, url: null, followers: null },
        sentiment: { label: 'negative', score: 0.5, model: 'test-model', confidence: null, low_confidence: false, reason: null },
        actionable: true,
        action_reasons: ['legal_threat', 'complaint'],
        lang: 'en',
        published_at: null,
      },
      deliveries: [
        { destination_kind: 'helpdesk', destination_id: 'zendesk-main', status: 'dead', attempts: 8, last_status: 502, last_error: 'bad gateway', delivered_at: null },
        { destination_kind: 'channel', destination_id: 'tg-support', status: 'delivered', attempts: 1, last_status: 200, last_error: null, delivered_at: '2026-03-01T12:00:00.000Z' },
      ],
    });
    expect(typeof first.seq).toBe('string');
  });

  it('returns a cursor even for an empty feed, and filters by status', async () => {
    const fromStart = await poll(null, 'status=closed');
    expect(fromStart.data).toEqual([]);
    expect(fromStart.next_cursor).toBe(Buffer.from('{"seq":"0"}').toString('base64url'));
    const solved = await poll(null, 'status=solved');
    expect(solved.data.map((t) => t.status)).toEqual(['solved']);
    const bad = await app.inject({ method: 'GET', url: '/api/v1/tickets?cursor=abc&limit=501', headers });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors.map((e: { path: string }) => e.path).sort()).toEqual(['querystring.cursor', 'querystring.limit']);
  });

  it('never skips or repeats a ticket while two writers commit concurrently', async () => {
    const perWriter = 12;
    const mentionIds = await Promise.all(Array.from({ length: perWriter * 2 }, () => newMention()));
    let cursor = (await poll(null, 'limit=500')).next_cursor;
    for (let page = await poll(cursor, 'limit=500'); page.data.length > 0; page = await poll(cursor, 'limit=500')) {
      cursor = page.next_cursor;
    }

    const committed: string[] = [];
    const writer = async (offset: number) => {
      for (let i = 0; i < perWriter; i++) {
        const mentionId = mentionIds[offset + i] as string;
        const ticket = await store.db.transaction().execute(async (trx) => {
          const row = await insertTicketInTransaction(trx, { mentionId, brandId });
          // The ticket's outbox row shares the transaction, keeping it open across more round trips.
          await insertOutbox(trx, { messageId: `push-${row.id}`, ticketId: row.id });
          await new Promise((resolve) => setImmediate(resolve));
          return row;
        });
        committed.push(ticket.id);
      }
    };

    let writersDone = false;
    const writers = Promise.all([writer(0), writer(perWriter)]).finally(() => {
      writersDone = true;
    });
    const seen: FeedJson['data'] = [];
    for (;;) {
      const finished = writersDone;
      const page = await poll(cursor, 'limit=2');
      seen.push(...page.data);
      cursor = page.next_cursor;
      if (finished && page.data.length === 0) break;
    }
    await writers;

    const ids = seen.map((t) => t.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual([...committed].sort());
    const seqs = seen.map((t) => BigInt(t.seq));
    for (let i = 1; i < seqs.length; i++) expect(seqs[i] as bigint > (seqs[i - 1] as bigint)).toBe(true);
    expect(seen.every((t) => t.deliveries.length === 1)).toBe(true);
  });
});
