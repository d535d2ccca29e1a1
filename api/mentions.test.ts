import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../store/connect.ts';
import { createTestStore } from '../tests/helpers/test-store.ts';
import { buildApp } from './app.ts';
import { createBearer, insertBrand, insertMention, insertTarget } from './test-seed.ts';
import { basicTicketPolicy } from '../pipeline/ticket-policy.ts';

interface MentionJson {
  id: string;
  external_id: string;
  brand: string;
  source: string;
  sentiment: { label: string };
}

interface CorrectionJson {
  id: string;
  field: 'sentiment' | 'actionable';
  old: string | boolean;
  new: string | boolean;
  by: string;
  at: string;
  note: string | null;
}

interface CorrectedJson {
  correction: CorrectionJson;
  mention: Record<string, unknown> & { id: string; sentiment: Record<string, unknown>; corrected: Record<string, boolean> };
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
      brands: ['Acme'],
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
      sentiment: { label: 'negative', score: 0.5, model: 'test-model', confidence: null, low_confidence: false, reason: null },
      actionable: true,
      action_reasons: [],
      cluster: null,
      corrected: { sentiment: false, actionable: false },
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
    const notNumeric = await get(`?cursor=${Buffer.from('{"id":"abc"}').toString('base64url')}`);
    expect(notNumeric.statusCode).toBe(400);
    for (const query of ['?limit=0', '?limit=201', '?limit=abc', '?since=yesterday', '?sentiment=bad']) {
      const res = await get(query);
      expect(res.statusCode, query).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
  });

  it('tags a page, answers 304 to a client that has it, and a new tag once the page changed', async () => {
    const url = '/api/v1/mentions?brand=Acme&limit=3';
    const first = await app.inject({ method: 'GET', url, headers });
    const tag = first.headers.etag as string;
    expect(tag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    expect(first.headers['cache-control']).toBe('private, no-cache');
    const again = await app.inject({ method: 'GET', url, headers: { ...headers, 'if-none-match': `"other", W/${tag}` } });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
    expect(again.headers.etag).toBe(tag);
    // Another page, and a changed one, are answered in full.
    const other = await app.inject({ method: 'GET', url: '/api/v1/mentions?brand=Acme&limit=2', headers: { ...headers, 'if-none-match': tag } });
    expect(other.statusCode).toBe(200);
    const acme = (await store.db.selectFrom('brands').select('id').where('name', '=', 'Acme').executeTakeFirstOrThrow()).id;
    const added = await insertMention(store.db, { brandId: acme, externalId: 'etag-new', sentiment: 'negative' });
    const changed = await app.inject({ method: 'GET', url, headers: { ...headers, 'if-none-match': tag } });
    expect(changed.statusCode).toBe(200);
    expect(changed.headers.etag).not.toBe(tag);
    expect(changed.json<{ data: MentionJson[] }>().data[0]!.id).toBe(added);
    await store.db.deleteFrom('mention_brands').where('mention_id', '=', added).execute();
    await store.db.deleteFrom('mentions').where('id', '=', added).execute();
  });

  it('defaults to 50 per page', async () => {
    const body = (await get('')).json() as { data: unknown[]; has_more: boolean; next_cursor: string | null };
    expect(body.data).toHaveLength(9);
    expect(body.has_more).toBe(false);
    expect(body.next_cursor).toBeNull();
  });
});

describe('mention corrections API', () => {
  const NOW = new Date('2026-03-05T10:00:00Z');
  let store: Store;
  let app: FastifyInstance;
  let writer: { authorization: string };
  let reader: { authorization: string };
  let brandId: number;
  let counter = 0;

  beforeAll(async () => {
    store = await createTestStore();
    app = await buildApp({ db: store.db, storeKind: store.kind, now: () => NOW });
    writer = await createBearer(store.db, ['read', 'write']);
    reader = await createBearer(store.db, ['read']);
    brandId = await insertBrand(store.db, 'Acme');
  });
  afterAll(async () => {
    await app.close();
    await store.close();
  });

  const newMention = () => insertMention(store.db, { brandId, externalId: `c${counter++}`, sentiment: 'negative' });
  const post = (id: string, what: 'sentiment' | 'actionable', payload: unknown, headers = writer) =>
    app.inject({ method: 'POST', url: `/api/v1/mentions/${id}/${what}`, headers, payload: payload as object });
  const corrections = (id: string, headers = reader) =>
    app.inject({ method: 'GET', url: `/api/v1/mentions/${id}/corrections`, headers });
  const correctionCount = async () =>
    Number((await store.db.selectFrom('mention_corrections').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);

  it('sets the label as the person named in `by` and answers with the correction and the mention', async () => {
    const id = await newMention();
    const res = await post(id, 'sentiment', { label: 'positive', by: 'olga@acme', note: 'irony' });
    expect(res.statusCode).toBe(200);
    const body = res.json() as CorrectedJson;
    expect(body.correction).toEqual({
      id: expect.stringMatching(/^[0-9]+$/),
      field: 'sentiment',
      old: 'negative',
      new: 'positive',
      by: 'olga@acme',
      at: NOW.toISOString(),
      note: 'irony',
    });
    expect(body.mention).toMatchObject({
      id,
      external_id: expect.any(String),
      brand: 'Acme',
      sentiment: { label: 'positive', score: 1, model: 'human', confidence: 1, low_confidence: false, reason: null },
      actionable: true,
      corrected: { sentiment: true, actionable: false },
    });
  });

  it('names the API key as the actor when no person is given', async () => {
    const id = await newMention();
    const res = await post(id, 'actionable', { actionable: false });
    expect(res.statusCode).toBe(200);
    const body = res.json() as CorrectedJson;
    expect(body.correction).toMatchObject({ field: 'actionable', old: true, new: false, by: 'apikey:test read+write', note: null });
    expect(body.mention).toMatchObject({ id, actionable: false, corrected: { sentiment: false, actionable: true } });
  });

  it('refuses a read-only key with 403 and records nothing', async () => {
    const id = await newMention();
    const before = await correctionCount();
    for (const [what, payload] of [['sentiment', { label: 'neutral' }], ['actionable', { actionable: false }]] as const) {
      const res = await post(id, what, payload, reader);
      expect(res.statusCode, what).toBe(403);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    expect(await correctionCount()).toBe(before);
  });

  it('answers 404 problem+json for an unknown mention', async () => {
    for (const res of [
      await post('987654321', 'sentiment', { label: 'neutral' }),
      await post('987654321', 'actionable', { actionable: true }),
      await corrections('987654321'),
    ]) {
      expect(res.statusCode).toBe(404);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ status: 404, detail: expect.stringContaining('987654321') });
    }
  });

  it('rejects a bad label, body or id with 400', async () => {
    const id = await newMention();
    const before = await correctionCount();
    const bad: [string, 'sentiment' | 'actionable', unknown][] = [
      [id, 'sentiment', { label: 'unscored' }],
      [id, 'sentiment', { label: 'great' }],
      [id, 'sentiment', {}],
      [id, 'sentiment', { label: 'neutral', by: '  ' }],
      [id, 'actionable', { actionable: 'yes' }],
      ['abc', 'sentiment', { label: 'neutral' }],
    ];
    for (const [target, what, payload] of bad) {
      const res = await post(target, what, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    expect(await correctionCount()).toBe(before);
  });

  it("lists a mention's corrections newest first", async () => {
    const id = await newMention();
    await post(id, 'sentiment', { label: 'neutral', by: 'olga' });
    await post(id, 'actionable', { actionable: false, by: 'olga' });
    await post(id, 'sentiment', { label: 'mixed', by: 'ivan', note: 'both' });
    const res = await corrections(id);
    expect(res.statusCode).toBe(200);
    const body = res.json() as { data: CorrectionJson[] };
    expect(body.data.map((c) => [c.field, c.old, c.new, c.by, c.note])).toEqual([
      ['sentiment', 'neutral', 'mixed', 'ivan', 'both'],
      ['actionable', true, false, 'olga', null],
      ['sentiment', 'negative', 'neutral', 'olga', null],
    ]);
    expect(body.data.every((c) => c.at === NOW.toISOString())).toBe(true);
    expect((await corrections(await newMention())).json()).toEqual({ data: [] });
  });

  it('opens a ticket, routed to the target\'s team, when a person marks a mention actionable', async () => {
    const policy = basicTicketPolicy({ defaultTeam: 'support', helpdesks: [{ id: 'usedesk' }], channels: [{ id: 'tg', events: ['ticket.created'] }] });
    const routed = await buildApp({ db: store.db, storeKind: store.kind, now: () => NOW, ticketPolicy: policy });
    try {
      await insertTarget(store.db, { id: 'acme-2gis-abay', source: '2gis', brandId });
      await store.db.updateTable('targets').set({ team: 'almaty' }).where('id', '=', 'acme-2gis-abay').execute();
      const id = await insertMention(store.db, { brandId, externalId: `c${counter++}`, sentiment: 'neutral', targetId: 'acme-2gis-abay' });
      const ticketsOf = () => store.db.selectFrom('tickets').selectAll().where('mention_id', '=', id).execute();
      const mark = (actionable: boolean) =>
        routed.inject({ method: 'POST', url: `/api/v1/mentions/${id}/actionable`, headers: writer, payload: { actionable, by: 'olga' } });

      expect((await mark(true)).statusCode).toBe(200);
      const [ticket, ...more] = await ticketsOf();
      expect(more).toEqual([]);
      expect(ticket).toMatchObject({ team: 'almaty', status: 'new', brand_id: brandId });
      const outbox = await store.db.selectFrom('outbox').select(['destination_kind', 'destination_id', 'event_type']).where('ticket_id', '=', ticket!.id).execute();
      expect(outbox.map((o) => `${o.destination_kind}:${o.destination_id}:${o.event_type}`).sort()).toEqual([
        'channel:tg:ticket.created', 'helpdesk:usedesk:ticket.created',
      ]);

      // Marking it again opens nothing more; marking it not actionable sets its ticket aside, and the helpdesk hears of it.
      expect((await mark(true)).statusCode).toBe(200);
      expect(await ticketsOf()).toHaveLength(1);
      expect((await mark(false)).statusCode).toBe(200);
      const [ignored, ...none] = await ticketsOf();
      expect(none).toEqual([]);
      expect(ignored).toMatchObject({ status: 'ignored', status_reason: 'not_actionable', version: 2 });
      expect(Number(ignored!.seq)).toBeGreaterThan(Number(ticket!.seq));
      const history = await store.db.selectFrom('ticket_history').select(['kind', 'actor', 'changes']).where('ticket_id', '=', ticket!.id).orderBy('id').execute();
      expect(history).toEqual([
        { kind: 'created', actor: 'system', changes: { team: 'almaty', priority: 'normal', routed_by: null } },
        { kind: 'status', actor: 'olga', changes: { status: { from: 'new', to: 'ignored' } } },
      ]);
      const updates = await store.db.selectFrom('outbox').select(['destination_id', 'event_type']).where('ticket_id', '=', ticket!.id).where('event_type', '=', 'ticket.updated').execute();
      expect(updates).toEqual([{ destination_id: 'usedesk', event_type: 'ticket.updated' }]);
    } finally {
      await routed.close();
    }
  });

  it('opens no ticket when the API has no routing policy', async () => {
    const id = await newMention();
    expect((await post(id, 'actionable', { actionable: true })).statusCode).toBe(200);
    expect(await store.db.selectFrom('tickets').select('id').where('mention_id', '=', id).execute()).toEqual([]);
  });

  it('shows the corrected label in the mention list', async () => {
    const id = await newMention();
    await post(id, 'sentiment', { label: 'neutral', by: 'olga' });
    const res = await app.inject({ method: 'GET', url: '/api/v1/mentions?sentiment=neutral&limit=200', headers: reader });
    const listed = (res.json() as { data: CorrectedJson['mention'][] }).data.find((m) => m.id === id);
    expect(listed).toMatchObject({
      sentiment: { label: 'neutral', score: 0, model: 'human', confidence: 1 },
      corrected: { sentiment: true, actionable: false },
    });
  });
});
