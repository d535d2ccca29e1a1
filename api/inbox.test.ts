import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../lib/password.ts';
import { basicTicketPolicy } from '../pipeline/ticket-policy.ts';
import type { ActionReason } from '../sentiment/types.ts';
import type { Db, Store } from '../store/connect.ts';
import type { SentimentLabel, TicketPriority, TicketStatus } from '../store/schema.ts';
import { createUser } from '../store/users.ts';
import { createTestStore } from '../tests/helpers/test-store.ts';
import { buildApp } from './app.ts';
import { createBearer, insertBrand, insertMention, insertTarget, insertTicket } from './test-seed.ts';

const PASSWORD = 'a long enough password';
const NOW = new Date('2026-03-05T12:00:00Z');

interface TicketJson {
  id: string;
  status: TicketStatus;
  priority: TicketPriority;
  team: string;
  assignee: string | null;
  version: number;
  first_response_due_at: string | null;
  resolution_due_at: string | null;
  breached: boolean;
  sla_paused: boolean;
  created_at: string;
}
interface ItemJson {
  mention: { id: string; external_id: string; sentiment: { label: string }; actionable: boolean };
  ticket: TicketJson | null;
}
interface PageJson {
  data: ItemJson[];
  next_cursor: string | null;
  has_more: boolean;
  total: number;
}
interface ResultJson {
  mention_id: string;
  ok: boolean;
  error?: string;
  mention?: ItemJson['mention'];
  ticket?: TicketJson | null;
}

interface TicketSeed {
  mentionId: string;
  brandId: number;
  status?: TicketStatus;
  priority?: TicketPriority;
  team?: string;
  assignee?: string | null;
  dueAt?: Date | null;
  clusterId?: string | null;
  breached?: boolean;
  paused?: boolean;
}

/** A ticket through the writer's seq protocol (test-seed), then the fields the inbox sorts and filters on. */
async function seedTicket(db: Db, seed: TicketSeed): Promise<string> {
  const { id } = await insertTicket(db, { mentionId: seed.mentionId, brandId: seed.brandId, status: seed.status ?? 'new' });
  await db
    .updateTable('tickets')
    .set({
      priority: seed.priority ?? 'normal',
      team: seed.team ?? 'support',
      assignee: seed.assignee ?? null,
      first_response_due_at: seed.dueAt ?? null,
      resolution_due_at: seed.dueAt ? new Date(seed.dueAt.getTime() + 86_400_000) : null,
      cluster_id: seed.clusterId ?? null,
      sla_breached: seed.breached ? ['first_response'] : [],
      sla_paused_at: seed.paused ? NOW : null,
    })
    .where('id', '=', id)
    .execute();
  return id;
}

/** A story of stored mentions: the first is its representative. */
async function seedStory(db: Db, brandId: number, mentionIds: readonly string[]): Promise<string> {
  const at = new Date('2026-03-01T12:00:00Z');
  const { id } = await db
    .insertInto('clusters')
    .values({ brand_id: brandId, representative_id: mentionIds[0]!, size: mentionIds.length, sources: ['rss'], first_seen_at: at, last_seen_at: at })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db.updateTable('mentions').set({ cluster_id: id }).where('id', 'in', [...mentionIds]).execute();
  return id;
}

async function setMention(db: Db, id: string, set: { lang?: string; title?: string; actionable?: boolean }): Promise<void> {
  await db.updateTable('mentions').set(set).where('id', '=', id).execute();
}

async function signIn(app: FastifyInstance, email: string): Promise<{ cookie: string; 'x-csrf-token': string }> {
  const res = await app.inject({ method: 'POST', url: '/api/v1/session', payload: { email, password: PASSWORD } });
  expect(res.statusCode, res.body).toBe(200);
  return { cookie: String(res.headers['set-cookie']).split(';')[0]!, 'x-csrf-token': res.json().csrf_token as string };
}

async function createPeople(db: Db): Promise<void> {
  const hash = await hashPassword(PASSWORD);
  await createUser(db, { email: 'agent@acme.kz', role: 'agent', passwordHash: hash, createdBy: 'cli' }, NOW);
  await createUser(db, { email: 'viewer@acme.kz', role: 'viewer', passwordHash: hash, createdBy: 'cli' }, NOW);
}

const RANK: Record<TicketPriority, number> = { urgent: 0, high: 1, normal: 2, low: 3 };

describe('GET /api/v1/inbox', () => {
  let store: Store;
  let app: FastifyInstance;
  let bearer: { authorization: string };
  let agent: { cookie: string };
  /** external id → mention id */
  const m = new Map<string, string>();
  /** name → ticket id */
  const t = new Map<string, string>();
  let bulk: { mentionId: string; ticket: { id: string; rank: number; due: number } | null }[] = [];

  beforeAll(async () => {
    store = await createTestStore();
    app = await buildApp({ db: store.db, storeKind: store.kind, now: () => NOW, ticketPolicy: basicTicketPolicy({ defaultTeam: 'support' }) });
    bearer = await createBearer(store.db, ['read', 'write']);
    await createPeople(store.db);
    agent = { cookie: (await signIn(app, 'agent@acme.kz')).cookie };
    const db = store.db;
    const acme = await insertBrand(db, 'Acme');
    const other = await insertBrand(db, 'Other');
    await insertTarget(db, { id: 'acme-rss', source: 'rss', brandId: acme });

    const seeds: { ext: string; source?: string; sentiment?: SentimentLabel; reasons?: ActionReason[]; day: number; text?: string; brand?: number }[] = [
      { ext: 'a1', sentiment: 'negative', reasons: ['complaint'], day: 1, text: 'Acme lost my parcels again' },
      { ext: 'a2', source: 'vk', sentiment: 'negative', reasons: ['question'], day: 2 },
      { ext: 'a3', sentiment: 'mixed', day: 3, text: 'Посылка потерялась, Acme не отвечает' },
      { ext: 'a4', source: 'vk', sentiment: 'negative', reasons: ['complaint', 'churn_threat'], day: 4 },
      { ext: 'a5', sentiment: 'negative', day: 5 },
      { ext: 'a6', source: 'vk', sentiment: 'neutral', reasons: ['question'], day: 6 },
      { ext: 'a7', sentiment: 'positive', reasons: ['praise'], day: 7 },
      { ext: 'a8', sentiment: 'negative', day: 8 },
      { ext: 'a9', sentiment: 'neutral', day: 9 },
      { ext: 'a10', sentiment: 'negative', day: 10, text: 'Acme lost my parcels again!' },
      { ext: 'o1', sentiment: 'negative', day: 11, brand: other },
    ];
    for (const s of seeds) {
      const id = await insertMention(db, {
        brandId: s.brand ?? acme, externalId: s.ext, source: s.source ?? 'rss', targetId: (s.source ?? 'rss') === 'rss' && !s.brand ? 'acme-rss' : null,
        sentiment: s.sentiment ?? 'neutral', actionReasons: s.reasons ?? [], text: s.text ?? `text of ${s.ext}`,
        publishedAt: new Date(Date.UTC(2026, 1, s.day)), firstSeenAt: new Date(Date.UTC(2026, 2, 1)),
      });
      m.set(s.ext, id);
    }
    await setMention(db, m.get('a3')!, { lang: 'ru' });
    // a10 is a copy of a1's story: the mentions view shows it with a1's ticket.
    const story = await seedStory(db, acme, [m.get('a1')!, m.get('a10')!]);
    const due = (h: number) => new Date(Date.UTC(2026, 2, 5, h));
    t.set('u1', await seedTicket(db, { mentionId: m.get('a1')!, brandId: acme, priority: 'urgent', dueAt: due(10), status: 'open', clusterId: story, breached: true }));
    t.set('u2', await seedTicket(db, { mentionId: m.get('a2')!, brandId: acme, priority: 'urgent', dueAt: null }));
    t.set('h1', await seedTicket(db, { mentionId: m.get('a3')!, brandId: acme, priority: 'high', dueAt: due(9), status: 'pending', assignee: 'agent@acme.kz', paused: true }));
    t.set('n1', await seedTicket(db, { mentionId: m.get('a4')!, brandId: acme, priority: 'normal', dueAt: due(8), team: 'billing' }));
    t.set('n2', await seedTicket(db, { mentionId: m.get('a5')!, brandId: acme, priority: 'normal', dueAt: due(8) }));
    t.set('l1', await seedTicket(db, { mentionId: m.get('a6')!, brandId: acme, priority: 'low', dueAt: due(7), status: 'on_hold', assignee: 'someone@acme.kz' }));
    t.set('s1', await seedTicket(db, { mentionId: m.get('a7')!, brandId: acme, priority: 'high', dueAt: due(1), status: 'solved' }));
    t.set('c1', await seedTicket(db, { mentionId: m.get('a8')!, brandId: acme, priority: 'urgent', dueAt: due(1), status: 'closed' }));

    // Brand Bulk: enough tickets with tied priorities and deadlines (and none) to page through in small pages.
    const bulkBrand = await insertBrand(db, 'Bulk');
    const priorities: TicketPriority[] = ['low', 'urgent', 'normal', 'high', 'normal'];
    const dues = [due(9), null, due(8), due(9), null, due(7)];
    bulk = [];
    for (let i = 0; i < 41; i++) {
      const mentionId = await insertMention(db, { brandId: bulkBrand, externalId: `b${i}`, sentiment: 'negative' });
      // Every fourth mention has no ticket; every seventh ticket is solved (not open).
      if (i % 4 === 3) {
        bulk.push({ mentionId, ticket: null });
        continue;
      }
      const priority = priorities[i % priorities.length]!;
      const dueAt = dues[i % dues.length]!;
      const status: TicketStatus = i % 7 === 0 ? 'solved' : 'new';
      const id = await seedTicket(db, { mentionId, brandId: bulkBrand, priority, dueAt, status });
      bulk.push({ mentionId, ticket: { id, rank: RANK[priority] + (status === 'solved' ? 100 : 0), due: dueAt?.getTime() ?? Infinity } });
    }
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  const get = async (query: string, headers: Record<string, string> = bearer) =>
    app.inject({ method: 'GET', url: `/api/v1/inbox${query}`, headers });

  async function page(query: string, headers?: Record<string, string>): Promise<PageJson> {
    const res = await get(query, headers);
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as PageJson;
  }

  /** Every item of a query, page by page; checks the envelope of each page on the way. */
  async function walk(query: string, limit: number): Promise<{ items: ItemJson[]; pages: number }> {
    const items: ItemJson[] = [];
    let cursor: string | null = null;
    let pages = 0;
    let total: number | null = null;
    do {
      const body = await page(`${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
      expect(body.data.length).toBeLessThanOrEqual(limit);
      expect(body.has_more).toBe(body.next_cursor !== null);
      total ??= body.total;
      expect(body.total).toBe(total);
      items.push(...body.data);
      cursor = body.next_cursor;
      pages++;
    } while (cursor);
    expect(items.length).toBe(total);
    return { items, pages };
  }

  const ext = (items: ItemJson[]) => items.map((i) => i.mention.external_id);
  const ticketIds = (items: ItemJson[]) => items.map((i) => i.ticket?.id);

  it('lists open tickets by default, by priority, then first-response deadline (none last), then id', async () => {
    const body = await page('?brand=Acme');
    expect(ticketIds(body.data)).toEqual(['u1', 'u2', 'h1', 'n1', 'n2', 'l1'].map((name) => t.get(name)));
    expect(body.total).toBe(6);
    expect(body.has_more).toBe(false);
    expect(body.next_cursor).toBeNull();
    expect(body.data[0]).toEqual({
      mention: expect.objectContaining({ id: m.get('a1'), external_id: 'a1', brand: 'Acme', cluster: expect.objectContaining({ size: 2 }) }),
      ticket: {
        id: t.get('u1'), status: 'open', priority: 'urgent', team: 'support', assignee: null, version: 1,
        first_response_due_at: '2026-03-05T10:00:00.000Z', resolution_due_at: '2026-03-06T10:00:00.000Z',
        breached: true, sla_paused: false, created_at: '2026-03-01T12:00:00.000Z',
      },
    });
    expect(body.data[2]!.ticket).toMatchObject({ status: 'pending', sla_paused: true, breached: false, assignee: 'agent@acme.kz' });
  });

  it('pages through the priority sort with a keyset cursor: no duplicates, no gaps, at any page size', async () => {
    const expected = bulk
      .flatMap((b) => (b.ticket && b.ticket.rank < 100 ? [b.ticket] : []))
      .sort((x, y) => x.rank - y.rank || x.due - y.due || Number(x.id) - Number(y.id))
      .map((x) => x.id);
    for (const limit of [1, 4, 7, 200]) {
      const { items, pages } = await walk('?brand=Bulk', limit);
      expect(ticketIds(items)).toEqual(expected);
      expect(pages).toBe(Math.max(1, Math.ceil(expected.length / limit)));
    }
  });

  it('pages through the mentions view by priority: mentions without a ticket last, by mention id', async () => {
    const key = (b: (typeof bulk)[number]) => [b.ticket ? b.ticket.rank % 100 : 4, b.ticket?.due ?? Infinity, Number(b.mentionId)] as const;
    const expected = [...bulk]
      .sort((x, y) => {
        const [a, b] = [key(x), key(y)];
        return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
      })
      .map((b) => b.mentionId);
    const { items } = await walk('?view=mentions&brand=Bulk&sort=priority', 6);
    expect(items.map((i) => i.mention.id)).toEqual(expected);
    expect(items.filter((i) => i.ticket === null)).toHaveLength(bulk.filter((b) => b.ticket === null).length);
  });

  it('pages through the newest sort by mention id, in every view', async () => {
    const open = bulk.filter((b) => b.ticket && b.ticket.rank < 100).map((b) => b.mentionId).reverse();
    const withTicket = bulk.filter((b) => b.ticket).map((b) => b.mentionId).reverse();
    const all = bulk.map((b) => b.mentionId).reverse();
    expect((await walk('?brand=Bulk&sort=newest', 5)).items.map((i) => i.mention.id)).toEqual(open);
    expect((await walk('?view=tickets&brand=Bulk', 5)).items.map((i) => i.mention.id)).toEqual(withTicket);
    expect((await walk('?view=mentions&brand=Bulk', 5)).items.map((i) => i.mention.id)).toEqual(all);
  });

  it('does not shift later pages when an item arrives mid-walk', async () => {
    const first = await page('?brand=Acme&limit=3');
    expect(ticketIds(first.data)).toEqual(['u1', 'u2', 'h1'].map((name) => t.get(name)));
    // An urgent ticket arriving now sorts before the cursor: the next page neither repeats nor skips.
    const acme = (await store.db.selectFrom('brands').select('id').where('name', '=', 'Acme').executeTakeFirstOrThrow()).id;
    const late = await insertMention(store.db, { brandId: acme, externalId: 'late', sentiment: 'negative' });
    const lateTicket = await seedTicket(store.db, { mentionId: late, brandId: acme, priority: 'urgent', dueAt: new Date('2026-03-05T08:00:00Z') });
    try {
      const second = await page(`?brand=Acme&limit=3&cursor=${first.next_cursor}`);
      expect(ticketIds(second.data)).toEqual(['n1', 'n2', 'l1'].map((name) => t.get(name)));
      expect(second.total).toBe(7);
    } finally {
      await store.db.deleteFrom('tickets').where('id', '=', lateTicket).execute();
      await store.db.deleteFrom('mention_brands').where('mention_id', '=', late).execute();
      await store.db.deleteFrom('mentions').where('id', '=', late).execute();
    }
  });

  it('switches views: every ticket, or every mention with its story ticket', async () => {
    const tickets = await page('?view=tickets&brand=Acme');
    expect(ext(tickets.data)).toEqual(['a8', 'a7', 'a6', 'a5', 'a4', 'a3', 'a2', 'a1']);
    expect(tickets.total).toBe(8);
    const solved = await page('?view=tickets&brand=Acme&status=solved,closed');
    expect(solved.data.map((i) => i.ticket?.status)).toEqual(['closed', 'solved']);
    const byPriority = await page('?view=tickets&brand=Acme&sort=priority');
    expect(ticketIds(byPriority.data)).toEqual(['c1', 'u1', 'u2', 's1', 'h1', 'n1', 'n2', 'l1'].map((name) => t.get(name)));

    const mentions = await page('?view=mentions&brand=Acme');
    expect(ext(mentions.data)).toEqual(['a10', 'a9', 'a8', 'a7', 'a6', 'a5', 'a4', 'a3', 'a2', 'a1']);
    expect(mentions.total).toBe(10);
    const byExt = new Map(mentions.data.map((i) => [i.mention.external_id, i.ticket?.id ?? null]));
    // A copy shows its story's ticket; a mention of no ticket shows none.
    expect(byExt.get('a10')).toBe(t.get('u1'));
    expect(byExt.get('a1')).toBe(t.get('u1'));
    expect(byExt.get('a9')).toBeNull();
    // In needs_reply only the open statuses among those asked for count.
    expect(ticketIds((await page('?brand=Acme&status=pending,solved')).data)).toEqual([t.get('h1')]);
  });

  it('filters by brand, source, target, team, sentiment, lang, reason, since and until', async () => {
    const ids = async (query: string) => {
      const body = await page(query);
      expect(body.total).toBe(body.data.length);
      return ext(body.data);
    };
    expect(await ids('?brand=Other')).toEqual([]);
    expect(await ids('?view=mentions&brand=Other')).toEqual(['o1']);
    expect(await ids('?brand=Acme&source=vk')).toEqual(['a2', 'a4', 'a6']);
    expect(await ids('?view=mentions&target=acme-rss&sort=newest')).toEqual(['a10', 'a9', 'a8', 'a7', 'a5', 'a3', 'a1']);
    expect(await ids('?team=billing')).toEqual(['a4']);
    expect(await ids('?brand=Acme&sentiment=mixed,neutral')).toEqual(['a3', 'a6']);
    expect(await ids('?view=mentions&lang=ru')).toEqual(['a3']);
    expect(await ids('?brand=Acme&reason=complaint')).toEqual(['a1', 'a4']);
    expect(await ids('?view=mentions&reason=praise')).toEqual(['a7']);
    // Published Feb 3 at midnight up to (not including) Feb 6.
    expect(await ids(`?view=mentions&brand=Acme&since=2026-02-03T00:00:00Z&until=${encodeURIComponent('2026-02-06T00:00:00+00:00')}`)).toEqual(['a5', 'a4', 'a3']);
    // Ticket filters leave out mentions without a ticket, in the mentions view too.
    expect(await ids('?view=mentions&brand=Acme&status=new')).toEqual(['a5', 'a4', 'a2']);
    expect(await ids('?view=mentions&brand=Acme&team=billing')).toEqual(['a4']);
  });

  it('filters by assignee: me (the signed-in person), none, or a name', async () => {
    expect(ext((await page('?assignee=me', agent)).data)).toEqual(['a3']);
    expect(ext((await page('?brand=Acme&assignee=none')).data)).toEqual(['a1', 'a2', 'a4', 'a5']);
    expect(ext((await page('?view=tickets&assignee=someone@acme.kz')).data)).toEqual(['a6']);
    expect(ext((await page('?view=mentions&brand=Acme&assignee=none')).data)).toEqual(['a10', 'a8', 'a7', 'a5', 'a4', 'a2', 'a1']);
    const key = await get('?assignee=me');
    expect(key.statusCode).toBe(400);
    expect(key.json().detail).toMatch(/signed-in person/);
  });

  it('searches title and text with the full-text index, in Russian and English', async () => {
    expect(ext((await page('?view=mentions&q=parcel')).data)).toEqual(['a10', 'a1']);
    expect(ext((await page('?view=mentions&q=посылку')).data)).toEqual(['a3']);
    expect(ext((await page('?q=ACME+LOST')).data)).toEqual(['a1']);
    expect((await page('?view=mentions&q=nothing-like-it')).total).toBe(0);
  });

  it('refuses bad parameters and a cursor of another view or sort', async () => {
    const first = await page('?brand=Acme&limit=2');
    for (const query of [
      `?view=tickets&brand=Acme&limit=2&cursor=${first.next_cursor}`,
      `?brand=Acme&sort=newest&limit=2&cursor=${first.next_cursor}`,
      '?status=new,bogus', '?sentiment=', '?limit=201', '?limit=0', '?view=all', '?sort=oldest', '?reason=anger',
      '?since=yesterday', '?cursor=not-a-cursor',
    ]) {
      const res = await get(query);
      expect(res.statusCode, query).toBe(400);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    }
  });

  it('publishes the operations and the InboxItem schema in OpenAPI', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json() as {
      paths: Record<string, Record<string, { operationId: string; tags: string[]; responses: Record<string, { content?: Record<string, unknown> }> }>>;
      components: { schemas: Record<string, unknown> };
    };
    expect(doc.paths['/api/v1/inbox']?.get).toMatchObject({ operationId: 'listInbox', tags: ['inbox'] });
    expect(doc.paths['/api/v1/inbox/actions']?.post).toMatchObject({ operationId: 'applyInboxAction', tags: ['inbox'] });
    const events = doc.paths['/api/v1/events']?.get;
    expect(events).toMatchObject({ operationId: 'streamEvents', tags: ['inbox'] });
    expect(Object.keys(events!.responses['200']!.content!)).toEqual(['text/event-stream']);
    expect(JSON.stringify(doc.paths['/api/v1/inbox'])).toContain('#/components/schemas/InboxItem');
    expect(doc.components.schemas).toHaveProperty('InboxItem');
    expect(doc.components.schemas).toHaveProperty('InboxTicket');
  });
});

describe('POST /api/v1/inbox/actions', () => {
  let store: Store;
  let app: FastifyInstance;
  let bearer: { authorization: string };
  let agent: { cookie: string; 'x-csrf-token': string };
  let viewer: { cookie: string; 'x-csrf-token': string };
  let acme: number;
  const m = new Map<string, string>();
  const t = new Map<string, string>();

  beforeAll(async () => {
    store = await createTestStore();
    app = await buildApp({
      db: store.db, storeKind: store.kind, now: () => NOW,
      ticketPolicy: basicTicketPolicy({ defaultTeam: 'support', helpdesks: [{ id: 'zendesk-main' }] }),
    });
    bearer = await createBearer(store.db, ['read', 'write']);
    await createPeople(store.db);
    agent = await signIn(app, 'agent@acme.kz');
    viewer = await signIn(app, 'viewer@acme.kz');
    const db = store.db;
    acme = await insertBrand(db, 'Acme');
    for (const ext of ['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7']) {
      m.set(ext, await insertMention(db, { brandId: acme, externalId: ext, sentiment: ext === 'a6' ? 'neutral' : 'negative', text: `Acme broke ${ext}` }));
    }
    const story = await seedStory(db, acme, [m.get('a1')!, m.get('a2')!]);
    t.set('a1', await seedTicket(db, { mentionId: m.get('a1')!, brandId: acme, priority: 'high', clusterId: story }));
    t.set('a3', await seedTicket(db, { mentionId: m.get('a3')!, brandId: acme, assignee: 'other@acme.kz' }));
    t.set('a4', await seedTicket(db, { mentionId: m.get('a4')!, brandId: acme }));
    t.set('a7', await seedTicket(db, { mentionId: m.get('a7')!, brandId: acme, status: 'closed' }));
    await setMention(db, m.get('a6')!, { actionable: false });
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  const act = (payload: Record<string, unknown>, headers: Record<string, string> = agent) =>
    app.inject({ method: 'POST', url: '/api/v1/inbox/actions', headers, payload });

  async function results(payload: Record<string, unknown>, headers?: Record<string, string>): Promise<ResultJson[]> {
    const res = await act(payload, headers);
    expect(res.statusCode, res.body).toBe(200);
    return (res.json() as { results: ResultJson[] }).results;
  }

  const history = (ticketId: string) =>
    store.db.selectFrom('ticket_history').select(['kind', 'actor', 'changes', 'note']).where('ticket_id', '=', ticketId).orderBy('id').execute();

  it('assigns to the signed-in person, each mention on its own: a missing mention or one without a ticket is not ok', async () => {
    const out = await results({ action: 'assign_me', mention_ids: [m.get('a1'), '999999', m.get('a5'), m.get('a2')], note: 'mine' });
    expect(out.map((r) => [r.mention_id, r.ok, r.error])).toEqual([
      [m.get('a1'), true, undefined],
      ['999999', false, 'There is no mention with id 999999.'],
      [m.get('a5'), false, `Mention ${m.get('a5')} has no ticket.`],
      // A copy of the story: its story's ticket, already assigned by the first.
      [m.get('a2'), true, undefined],
    ]);
    expect(out[0]!.ticket).toMatchObject({ id: t.get('a1'), assignee: 'agent@acme.kz', version: 2 });
    expect(out[0]!.mention).toMatchObject({ id: m.get('a1'), external_id: 'a1' });
    expect(out[3]!.ticket).toMatchObject({ id: t.get('a1'), assignee: 'agent@acme.kz' });
    expect(await history(t.get('a1')!)).toEqual([
      { kind: 'assignee', actor: 'user:agent@acme.kz', changes: { assignee: { from: null, to: 'agent@acme.kz' } }, note: 'mine' },
    ]);
    // Its helpdesk hears of the change.
    const pushed = await store.db.selectFrom('outbox').select(['event_type', 'destination_id']).where('ticket_id', '=', t.get('a1')!).execute();
    expect(pushed).toEqual([{ event_type: 'ticket.updated', destination_id: 'zendesk-main' }]);
  });

  it('solves and unassigns through the ticket lifecycle; a closed ticket keeps its status', async () => {
    const solved = await results({ action: 'solve', mention_ids: [m.get('a2'), m.get('a3'), m.get('a7')] });
    expect(solved.map((r) => [r.ok, r.ticket?.status, r.error])).toEqual([
      [true, 'solved', undefined],
      [true, 'solved', undefined],
      [false, undefined, `ticket ${t.get('a7')} is closed: its status cannot change`],
    ]);
    expect((await history(t.get('a3')!)).at(-1)).toMatchObject({ kind: 'status', actor: 'user:agent@acme.kz', changes: { status: { from: 'new', to: 'solved' } } });
    const unassigned = await results({ action: 'unassign', mention_ids: [m.get('a3')] });
    expect(unassigned[0]).toMatchObject({ ok: true, ticket: { id: t.get('a3'), assignee: null, status: 'solved' } });
    expect((await history(t.get('a3')!)).at(-1)).toMatchObject({ kind: 'assignee', changes: { assignee: { from: 'other@acme.kz', to: null } } });
  });

  it('corrects sentiment for each mention, as the person', async () => {
    const out = await results({ action: 'sentiment', label: 'positive', mention_ids: [m.get('a5'), '888888'], note: 'sarcasm, really' });
    expect(out.map((r) => [r.ok, r.mention?.sentiment.label, r.error])).toEqual([
      [true, 'positive', undefined],
      [false, undefined, 'There is no mention with id 888888.'],
    ]);
    expect(out[0]!.ticket).toBeNull();
    const corrections = await store.db.selectFrom('mention_corrections').select(['mention_id', 'field', 'new_value', 'actor', 'note']).execute();
    expect(corrections).toEqual([{ mention_id: m.get('a5'), field: 'sentiment', new_value: 'positive', actor: 'user:agent@acme.kz', note: 'sarcasm, really' }]);
  });

  it('marks mentions not relevant (the ticket is set aside) or needing a reply (a ticket opens)', async () => {
    const ignored = await results({ action: 'not_relevant', mention_ids: [m.get('a4')] });
    expect(ignored[0]).toMatchObject({ ok: true, mention: { actionable: false }, ticket: { id: t.get('a4'), status: 'ignored' } });
    expect((await history(t.get('a4')!)).at(-1)).toMatchObject({ kind: 'status', actor: 'user:agent@acme.kz', changes: { status: { from: 'new', to: 'ignored' } } });

    const opened = await results({ action: 'needs_reply', mention_ids: [m.get('a6')] });
    expect(opened[0]).toMatchObject({ ok: true, mention: { actionable: true }, ticket: { status: 'new', team: 'support' } });
    const ticket = await store.db.selectFrom('tickets').select(['id', 'mention_id']).where('mention_id', '=', m.get('a6')!).executeTakeFirstOrThrow();
    expect(opened[0]!.ticket!.id).toBe(ticket.id);
    const corrections = await store.db
      .selectFrom('mention_corrections').select(['mention_id', 'field', 'new_value', 'actor']).where('field', '=', 'actionable').orderBy('id').execute();
    expect(corrections).toEqual([
      { mention_id: m.get('a4'), field: 'actionable', new_value: 'false', actor: 'user:agent@acme.kz' },
      { mention_id: m.get('a6'), field: 'actionable', new_value: 'true', actor: 'user:agent@acme.kz' },
    ]);
  });

  it('records an API key as itself, and refuses to assign one', async () => {
    const out = await results({ action: 'unassign', mention_ids: [m.get('a1')] }, bearer);
    expect(out[0]).toMatchObject({ ok: true, ticket: { assignee: null } });
    expect((await history(t.get('a1')!)).at(-1)).toMatchObject({ actor: 'apikey:test read+write' });
    const refused = await act({ action: 'assign_me', mention_ids: [m.get('a1')] }, bearer);
    expect(refused.statusCode).toBe(400);
    expect(refused.json().detail).toBe('only a signed-in person can be assigned');
  });

  it('refuses a viewer, a write without the CSRF token, and a malformed body', async () => {
    const before = await store.db.selectFrom('ticket_history').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    const asViewer = await act({ action: 'solve', mention_ids: [m.get('a1')] }, viewer);
    expect(asViewer.statusCode).toBe(403);
    expect(asViewer.json().detail).toBe('A viewer cannot do this.');
    expect((await act({ action: 'solve', mention_ids: [m.get('a1')] }, { cookie: agent.cookie })).statusCode).toBe(403);
    for (const payload of [
      { action: 'sentiment', mention_ids: [m.get('a1')] },
      { action: 'solve', label: 'positive', mention_ids: [m.get('a1')] },
      { action: 'archive', mention_ids: [m.get('a1')] },
      { action: 'solve', mention_ids: [] },
      { action: 'solve', mention_ids: Array.from({ length: 201 }, (_, i) => String(i + 1)) },
      { action: 'solve', mention_ids: ['abc'] },
    ]) {
      const res = await act(payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
    }
    const after = await store.db.selectFrom('ticket_history').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    expect(after.n).toBe(before.n);
  });

  it('refuses ticket actions when the API runs without the config, and still corrects', async () => {
    const bare = await buildApp({ db: store.db, storeKind: store.kind, now: () => NOW });
    try {
      const res = await bare.inject({ method: 'POST', url: '/api/v1/inbox/actions', headers: bearer, payload: { action: 'solve', mention_ids: [m.get('a1')] } });
      expect(res.statusCode).toBe(409);
      const corrected = await bare.inject({ method: 'POST', url: '/api/v1/inbox/actions', headers: bearer, payload: { action: 'not_relevant', mention_ids: [m.get('a1')] } });
      expect(corrected.statusCode).toBe(200);
      // Without the config no ticket changes: the story's ticket stays as the solve above left it.
      expect((corrected.json() as { results: ResultJson[] }).results[0]).toMatchObject({ ok: true, mention: { actionable: false }, ticket: { status: 'solved' } });
    } finally {
      await bare.close();
    }
  });
});

/** Reads server-sent events off a real HTTP response, one whole event at a time. */
function readEvents(res: IncomingMessage) {
  const queue: { event: string; data: unknown }[] = [];
  const waiting: ((e: { event: string; data: unknown } | null) => void)[] = [];
  let buffer = '';
  let ended = false;
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    buffer += chunk;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const lines = block.split('\n').filter((line) => !line.startsWith(':'));
      if (lines.length === 0) continue; // a comment: the heartbeat
      const event = lines.find((l) => l.startsWith('event: '))?.slice(7) ?? 'message';
      const data = JSON.parse(lines.find((l) => l.startsWith('data: '))?.slice(6) ?? 'null') as unknown;
      const next = waiting.shift();
      if (next) next({ event, data });
      else queue.push({ event, data });
    }
  });
  const finish = () => {
    ended = true;
    for (const w of waiting.splice(0)) w(null);
  };
  res.on('end', finish);
  res.on('close', finish);
  return {
    /** The next event; null once the stream has ended. */
    next(): Promise<{ event: string; data: unknown } | null> {
      const queued = queue.shift();
      if (queued) return Promise.resolve(queued);
      if (ended) return Promise.resolve(null);
      return new Promise((resolve) => waiting.push(resolve));
    },
  };
}

function openStream(url: string, headers: Record<string, string>): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: { accept: 'text/event-stream', ...headers } }, resolve);
    req.on('error', reject);
    req.end();
  });
}

describe('GET /api/v1/events', () => {
  let store: Store;
  let app: FastifyInstance;
  let base: string;
  let agent: { cookie: string };
  let acme: number;

  beforeAll(async () => {
    store = await createTestStore();
    app = await buildApp({ db: store.db, storeKind: store.kind, eventsPollMs: 10 });
    await createPeople(store.db);
    agent = { cookie: (await signIn(app, 'agent@acme.kz')).cookie };
    acme = await insertBrand(store.db, 'Acme');
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  it('says hello with where the store is, then tells of each new mention and ticket change', async () => {
    const first = await insertMention(store.db, { brandId: acme, externalId: 'e1' });
    const res = await openStream(`${base}/api/v1/events`, agent);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.headers['x-accel-buffering']).toBe('no');
    const events = readEvents(res);
    try {
      expect(await events.next()).toEqual({ event: 'hello', data: { mention_id: first, ticket_seq: '0' } });

      const second = await insertMention(store.db, { brandId: acme, externalId: 'e2' });
      expect(await events.next()).toEqual({ event: 'changed', data: { mention_id: second, ticket_seq: '0' } });

      const ticket = await insertTicket(store.db, { mentionId: second, brandId: acme });
      expect(await events.next()).toEqual({ event: 'changed', data: { mention_id: second, ticket_seq: ticket.seq } });
    } finally {
      res.destroy();
    }
  });

  it('serves several streams from one poll, and keeps serving the others when one goes', async () => {
    const key = await createBearer(store.db, ['read']);
    const [a, b] = await Promise.all([openStream(`${base}/api/v1/events`, agent), openStream(`${base}/api/v1/events`, key)]);
    const [ea, eb] = [readEvents(a), readEvents(b)];
    try {
      const [ha, hb] = await Promise.all([ea.next(), eb.next()]);
      expect(ha?.event).toBe('hello');
      expect(hb).toEqual(ha);
      const third = await insertMention(store.db, { brandId: acme, externalId: 'e3' });
      const changed = { event: 'changed', data: { mention_id: third, ticket_seq: (ha!.data as { ticket_seq: string }).ticket_seq } };
      expect(await Promise.all([ea.next(), eb.next()])).toEqual([changed, changed]);
      a.destroy();
      expect(await ea.next()).toBeNull();
      const fourth = await insertMention(store.db, { brandId: acme, externalId: 'e4' });
      expect(await eb.next()).toMatchObject({ event: 'changed', data: { mention_id: fourth } });
    } finally {
      a.destroy();
      b.destroy();
    }
  });

  it('needs a session or an API key', async () => {
    const res = await openStream(`${base}/api/v1/events`, {});
    expect(res.statusCode).toBe(401);
    res.resume();
    const key = await createBearer(store.db, ['read']);
    const keyed = await openStream(`${base}/api/v1/events`, key);
    expect(keyed.statusCode).toBe(200);
    const events = readEvents(keyed);
    expect((await events.next())?.event).toBe('hello');
    keyed.destroy();
  });

  it('ends open streams when the server closes, without hanging app.close()', async () => {
    const res = await openStream(`${base}/api/v1/events`, agent);
    const events = readEvents(res);
    expect((await events.next())?.event).toBe('hello');
    await app.close();
    expect(await events.next()).toBeNull();
  });
});
