import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usedeskConfigSchema, usedeskConnector } from '../delivery/connectors/usedesk.ts';
import type { TicketChange, TicketDocument } from '../documents/ticket.ts';
import { openTicketForMention } from '../pipeline/open-tickets.ts';
import { basicTicketPolicy } from '../pipeline/ticket-policy.ts';
import { inTransaction, type Store } from '../store/connect.ts';
import { upsertTicketLink } from '../store/tickets.ts';
import { createTestStore } from '../tests/helpers/test-store.ts';
import { buildApp } from './app.ts';
import { createBearer, insertBrand, insertMention } from './test-seed.ts';

// Mon 2 March 2026; every request reads this clock, moved on by the tests, never slept on.
const T0 = new Date('2026-03-02T05:00:00Z');
const USEDESK_TOKEN = 'e1cbe1c1c9d910ef2ae975215644cb53dd555de4';
const after = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

interface FeedJson {
  data: TicketDocument[];
  next_cursor: string;
  has_more: boolean;
}

describe('ticket lifecycle through the API', () => {
  const clock = { now: T0 };
  const policy = basicTicketPolicy({ defaultTeam: 'support', teams: ['support', 'almaty'], helpdesks: [{ id: 'ud' }, { id: 'zd' }] });
  const usedesk = { connector: usedeskConnector, config: usedeskConfigSchema.parse({ id: 'ud', type: 'usedesk', apiToken: USEDESK_TOKEN }) };
  let store: Store;
  let app: FastifyInstance;
  let writer: { authorization: string };
  let reader: { authorization: string };
  let brandId: number;
  let counter = 0;

  beforeAll(async () => {
    store = await createTestStore();
    app = await buildApp({
      db: store.db, storeKind: store.kind, now: () => clock.now, ticketPolicy: policy,
      destinationOf: (kind, id) => (kind === 'helpdesk' && id === 'ud' ? usedesk : undefined),
    });
    writer = await createBearer(store.db, ['read', 'write']);
    reader = await createBearer(store.db, ['read']);
    brandId = await insertBrand(store.db, 'Acme');
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  /** A negative mention, and its ticket opened the way a crawl or the "actionable" correction opens it. */
  async function openTicket(): Promise<string> {
    const mentionId = await insertMention(store.db, { brandId, externalId: `lc${counter++}`, sentiment: 'negative', actionReasons: ['complaint'] });
    const opened = await inTransaction(store.db, (trx) => openTicketForMention(trx, mentionId, { policy, now: clock.now }));
    expect(opened).toBe(true);
    return (await store.db.selectFrom('tickets').select('id').where('mention_id', '=', mentionId).executeTakeFirstOrThrow()).id;
  }
  const getTicket = (id: string, headers = reader) => app.inject({ method: 'GET', url: `/api/v1/tickets/${id}`, headers });
  const ticketNow = async (id: string) => (await getTicket(id)).json() as TicketDocument;
  const patch = (id: string, body: object, headers: Record<string, string> = {}, key = writer) =>
    app.inject({ method: 'PATCH', url: `/api/v1/tickets/${id}`, headers: { ...key, ...headers }, payload: body });
  const history = async (id: string) => {
    const res = await app.inject({ method: 'GET', url: `/api/v1/tickets/${id}/history`, headers: reader });
    expect(res.statusCode, res.body).toBe(200);
    return (res.json() as { data: TicketChange[] }).data;
  };
  const updatesOf = (id: string) =>
    store.db.selectFrom('outbox').select(['destination_kind', 'destination_id', 'payload']).where('ticket_id', '=', id)
      .where('event_type', '=', 'ticket.updated').orderBy('id').execute();
  const poll = async (cursor: string | null, query = 'limit=500') => {
    const res = await app.inject({ method: 'GET', url: `/api/v1/tickets?${cursor ? `cursor=${cursor}&` : ''}${query}`, headers: reader });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as FeedJson;
  };
  /** The cursor at the end of the feed as it is now. */
  const feedEnd = async () => {
    let page = await poll(null);
    while (page.has_more) page = await poll(page.next_cursor);
    return page.next_cursor;
  };
  const expectProblem = (res: Awaited<ReturnType<typeof getTicket>>, status: number) => {
    expect(res.statusCode, res.body).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status });
  };

  it('GET /tickets/:id: the document, its version as ETag and its SLA deadlines', async () => {
    clock.now = T0;
    const id = await openTicket();
    const res = await getTicket(id);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers.etag).toBe('"1"');
    expect(res.json()).toMatchObject({
      id,
      version: 1,
      status: 'new',
      status_reason: null,
      priority: 'normal',
      team: 'support',
      assignee: null,
      brand: 'Acme',
      created_at: T0.toISOString(),
      updated_at: T0.toISOString(),
      first_response_at: null,
      solved_at: null,
      // The default normal targets, around the clock in the basic policy: 4h and 27h.
      first_response_due_at: '2026-03-02T09:00:00.000Z',
      resolution_due_at: '2026-03-03T08:00:00.000Z',
      sla_paused: false,
      breached: false,
      breaches: [],
      external: [],
      mention: { external_id: expect.stringMatching(/^lc/), actionable: true, action_reasons: ['complaint'] },
    });
    const doc = res.json() as TicketDocument;
    expect(doc.deliveries.map((d) => `${d.destination_id}:${d.event_type}:${d.status}`).sort()).toEqual([
      'ud:ticket.created:pending', 'zd:ticket.created:pending',
    ]);
  });

  it('PATCH with a matching If-Match: new version and seq, first response, history by `by`, one push per helpdesk', async () => {
    clock.now = T0;
    const id = await openTicket();
    const before = await ticketNow(id);
    clock.now = after(10);
    const res = await patch(id, { status: 'open', by: 'olga@acme', note: 'on it' }, { 'if-match': '"1"' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers.etag).toBe('"2"');
    const body = res.json() as TicketDocument;
    expect(body).toMatchObject({ id, version: 2, status: 'open', first_response_at: after(10).toISOString(), updated_at: after(10).toISOString() });
    expect(BigInt(body.seq)).toBeGreaterThan(BigInt(before.seq));
    expect(await ticketNow(id)).toEqual(body);

    expect(await history(id)).toEqual([
      { kind: 'created', actor: 'system', changes: { team: 'support', priority: 'normal', routed_by: null }, note: null, seq: before.seq, version: 1, at: T0.toISOString() },
      { kind: 'status', actor: 'olga@acme', changes: { status: { from: 'new', to: 'open' } }, note: 'on it', seq: body.seq, version: 2, at: after(10).toISOString() },
    ]);
    const updates = await updatesOf(id);
    expect(updates.map((u) => `${u.destination_kind}:${u.destination_id}`)).toEqual(['helpdesk:ud', 'helpdesk:zd']);
    for (const u of updates) {
      expect(u.payload).toMatchObject({ change: { kind: 'status', actor: 'olga@acme', version: 2, seq: body.seq, changes: { status: { from: 'new', to: 'open' } } } });
    }

    // A weak ETag is read the same way; without `by` the key's name is the actor.
    const weak = await patch(id, { priority: 'high' }, { 'if-match': 'W/"2"' });
    expect(weak.statusCode, weak.body).toBe(200);
    expect((await history(id)).at(-1)).toMatchObject({ kind: 'priority', actor: 'apikey:test read+write', version: 3 });
  });

  it('PATCH with a stale If-Match: 412 and nothing written', async () => {
    clock.now = T0;
    const id = await openTicket();
    expect((await patch(id, { assignee: 'ivan' }, { 'if-match': '"1"' })).statusCode).toBe(200);
    const before = await ticketNow(id);
    const res = await patch(id, { status: 'solved' }, { 'if-match': '"1"' });
    expectProblem(res, 412);
    expect(res.json().detail).toContain('version 2');
    expect(await ticketNow(id)).toEqual(before);
    expect(await history(id)).toHaveLength(2);
    expect(await updatesOf(id)).toHaveLength(2);
  });

  it('Idempotency-Key: the same request again gets the same answer, applied once; another body under it is 422', async () => {
    clock.now = T0;
    const id = await openTicket();
    const key = { 'idempotency-key': `k-${id}`, 'if-match': '"1"' };
    const first = await patch(id, { priority: 'high', by: 'olga' }, key);
    expect(first.statusCode, first.body).toBe(200);
    expect(first.headers['idempotent-replayed']).toBeUndefined();

    clock.now = after(1);
    const again = await patch(id, { priority: 'high', by: 'olga' }, key);
    expect(again.statusCode).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.headers.etag).toBe(first.headers.etag);
    expect(again.json()).toEqual(first.json());
    expect((await history(id)).map((h) => h.kind)).toEqual(['created', 'priority']);
    expect(await updatesOf(id)).toHaveLength(2);
    expect((await ticketNow(id)).version).toBe(2);

    const other = await patch(id, { priority: 'low', by: 'olga' }, key);
    expectProblem(other, 422);
    expect(other.json().detail).toMatch(/Idempotency-Key/);
    expect((await ticketNow(id)).priority).toBe('high');
    expect(await history(id)).toHaveLength(2);

    // Keys belong to their API key: another key's same Idempotency-Key is a new request (its If-Match is stale by now).
    const otherWriter = await createBearer(store.db, ['read', 'write']);
    const fresh = await patch(id, { priority: 'high', by: 'olga' }, key, otherWriter);
    expectProblem(fresh, 412);
    expect(fresh.headers['idempotent-replayed']).toBeUndefined();

    // A refusal is kept for its key too: the same stale request is refused again, even after the ticket moves on.
    const stale = { 'idempotency-key': `stale-${id}`, 'if-match': '"1"' };
    expectProblem(await patch(id, { assignee: 'ivan' }, stale), 412);
    expectProblem(await patch(id, { assignee: 'ivan' }, stale), 412);
    expect((await ticketNow(id)).assignee).toBeNull();
  });

  it('Idempotency-Key: two identical requests at once change the ticket once and get the same answer', async () => {
    clock.now = T0;
    const id = await openTicket();
    const key = { 'idempotency-key': `both-${id}` };
    // Without If-Match both would apply; the key makes the second wait for the first and take its answer.
    const [a, b] = await Promise.all([patch(id, { assignee: 'ivan', by: 'olga' }, key), patch(id, { assignee: 'ivan', by: 'olga' }, key)]);
    expect([a.statusCode, b.statusCode]).toEqual([200, 200]);
    expect(a.json()).toEqual(b.json());
    expect([a.headers['idempotent-replayed'], b.headers['idempotent-replayed']].filter(Boolean)).toEqual(['true']);
    expect((await history(id)).map((h) => h.kind)).toEqual(['created', 'assignee']);
  });

  it('refuses an unknown team with 422, and moves a ticket to a known one', async () => {
    clock.now = T0;
    const id = await openTicket();
    const res = await patch(id, { team: 'moscow' });
    expectProblem(res, 422);
    expect(res.json().detail).toBe('Unknown team "moscow" (teams: support, almaty).');
    expect(await history(id)).toHaveLength(1);
    const moved = await patch(id, { team: 'almaty' });
    expect(moved.statusCode, moved.body).toBe(200);
    expect(moved.json()).toMatchObject({ team: 'almaty', version: 2, status: 'new', first_response_at: null });
    expect((await history(id)).at(-1)).toMatchObject({ kind: 'team', changes: { team: { from: 'support', to: 'almaty' } } });
  });

  it('a closed ticket keeps its status: 409, nothing written', async () => {
    clock.now = T0;
    const id = await openTicket();
    clock.now = after(5);
    const closed = await patch(id, { status: 'closed' });
    expect(closed.statusCode, closed.body).toBe(200);
    expect(closed.json()).toMatchObject({ status: 'closed', solved_at: after(5).toISOString(), first_response_at: after(5).toISOString() });
    clock.now = after(6);
    const reopen = await patch(id, { status: 'open' }, { 'if-match': '"2"' });
    expectProblem(reopen, 409);
    expect(reopen.json().detail).toContain('closed');
    const now = await ticketNow(id);
    expect(now).toMatchObject({ status: 'closed', version: 2 });
    expect(await history(id)).toHaveLength(2);
  });

  it('pending stops the SLA clocks; leaving it moves the due times on by the time spent pending', async () => {
    clock.now = T0;
    const id = await openTicket();
    clock.now = after(60);
    const pending = await patch(id, { status: 'pending' });
    expect(pending.json()).toMatchObject({ status: 'pending', sla_paused: true, first_response_at: after(60).toISOString() });
    clock.now = after(180);
    const back = await patch(id, { status: 'open' });
    expect(back.json()).toMatchObject({
      status: 'open',
      sla_paused: false,
      first_response_due_at: '2026-03-02T11:00:00.000Z',
      resolution_due_at: '2026-03-03T10:00:00.000Z',
    });
  });

  it('answers 404 for an unknown ticket', async () => {
    for (const res of [
      await getTicket('987654321'),
      await app.inject({ method: 'GET', url: '/api/v1/tickets/987654321/history', headers: reader }),
      await patch('987654321', { status: 'open' }),
      await patch('987654321', { status: 'open' }, { 'if-match': '"1"' }),
    ]) {
      expectProblem(res, 404);
      expect(res.json().detail).toContain('987654321');
    }
  });

  it('needs a write key to change a ticket: a read key gets 403 and nothing is written', async () => {
    clock.now = T0;
    const id = await openTicket();
    const res = await patch(id, { status: 'open' }, {}, reader);
    expectProblem(res, 403);
    expect(await ticketNow(id)).toMatchObject({ status: 'new', version: 1 });
    expect(await history(id)).toHaveLength(1);
    expect((await app.inject({ method: 'PATCH', url: `/api/v1/tickets/${id}`, payload: { status: 'open' } })).statusCode).toBe(401);
  });

  it('the change feed shows each change once, in seq order, and only tickets that changed since the cursor', async () => {
    clock.now = T0;
    const [a, b, c] = [await openTicket(), await openTicket(), await openTicket()];
    let cursor = await feedEnd();
    expect((await poll(cursor)).data).toEqual([]);

    // Poll, change one ticket, poll again: exactly that ticket, as it is now.
    clock.now = after(1);
    expect((await patch(b, { assignee: 'ivan' })).statusCode).toBe(200);
    let page = await poll(cursor);
    expect(page.data.map((t) => [t.id, t.version, t.assignee])).toEqual([[b, 2, 'ivan']]);
    cursor = page.next_cursor;
    page = await poll(cursor);
    expect(page).toEqual({ data: [], next_cursor: cursor, has_more: false });

    // Three changes of two tickets: each ticket once, at its latest change, in the order of those changes.
    expect((await patch(a, { status: 'open' })).statusCode).toBe(200);
    expect((await patch(c, { priority: 'low' })).statusCode).toBe(200);
    expect((await patch(a, { status: 'solved' })).statusCode).toBe(200);
    const seen: TicketDocument[] = [];
    for (;;) {
      page = await poll(cursor, 'limit=1');
      seen.push(...page.data);
      cursor = page.next_cursor;
      if (!page.has_more) break;
    }
    expect(seen.map((t) => [t.id, t.status, t.version])).toEqual([[c, 'new', 2], [a, 'solved', 3]]);
    expect(BigInt(seen[0]!.seq) < BigInt(seen[1]!.seq)).toBe(true);
    expect((await poll(cursor)).data).toEqual([]);
  });

  it("GET /tickets/:id/history lists a ticket's changes oldest first", async () => {
    clock.now = T0;
    const id = await openTicket();
    const steps = [{ status: 'open' }, { priority: 'urgent' }, { assignee: 'ivan' }, { status: 'pending' }, { status: 'solved', note: 'done' }];
    for (const [i, body] of steps.entries()) {
      clock.now = after(i + 1);
      expect((await patch(id, { by: 'olga', ...body })).statusCode).toBe(200);
    }
    const rows = await history(id);
    expect(rows.map((h) => [h.kind, h.version, h.at])).toEqual([
      ['created', 1, after(0).toISOString()],
      ['status', 2, after(1).toISOString()],
      ['priority', 3, after(2).toISOString()],
      ['assignee', 4, after(3).toISOString()],
      ['status', 5, after(4).toISOString()],
      ['status', 6, after(5).toISOString()],
    ]);
    const seqs = rows.map((h) => BigInt(h.seq));
    expect(seqs).toEqual([...seqs].sort((x, y) => (x < y ? -1 : 1)));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(rows.at(-1)).toMatchObject({ actor: 'olga', note: 'done', changes: { status: { from: 'pending', to: 'solved' } } });
    expect(rows.at(-1)!.seq).toBe((await ticketNow(id)).seq);
  });

  describe('POST /helpdesks/:id/webhook (Usedesk "change ticket")', () => {
    /** The documented body Usedesk posts to the API channel's Redirect URL, JSON request on. */
    const changeTicketBody = (usedeskId: string, oldStatus: string, newStatus: string, opts: { secret?: string; additionalId?: string } = {}) =>
      JSON.stringify({
        secret: opts.secret ?? USEDESK_TOKEN,
        id: '1001',
        trigger_id: null,
        user_id: '6339',
        ticket_id: usedeskId,
        data: [{ target: 'status', value: newStatus, old_value: oldStatus }],
        changed_at: '2026-03-02 05:30:00',
        old_status: oldStatus,
        new_status: newStatus,
        company_id: '153561',
        ...(opts.additionalId !== undefined ? { additional_id: opts.additionalId } : {}),
      });
    const hook = (helpdesk: string, body: string) =>
      app.inject({ method: 'POST', url: `/api/v1/helpdesks/${helpdesk}/webhook`, headers: { 'content-type': 'application/json' }, payload: body });

    it("moves our status as the helpdesk's; the other helpdesk hears of it, the reporting one does not", async () => {
      clock.now = T0;
      const id = await openTicket();
      clock.now = after(5);
      expect((await patch(id, { status: 'open' })).statusCode).toBe(200);
      await upsertTicketLink(store.db, { ticketId: id, helpdeskId: 'ud', externalId: '5501', externalStatus: '1' }, clock.now);
      const pushesBefore = await updatesOf(id);
      expect(pushesBefore.map((u) => u.destination_id)).toEqual(['ud', 'zd']);

      clock.now = after(30);
      const res = await hook('ud', changeTicketBody('5501', '1', '2'));
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toEqual({ accepted: 1, unknown: 0 });

      const doc = await ticketNow(id);
      expect(doc).toMatchObject({
        status: 'solved', solved_at: after(30).toISOString(), version: 3, status_reason: null,
        external: [{ helpdesk: 'ud', id: '5501', status: '2' }],
      });
      expect((await history(id)).at(-1)).toMatchObject({
        kind: 'status', actor: 'helpdesk:ud', changes: { status: { from: 'open', to: 'solved' } }, version: 3, seq: doc.seq,
      });
      const pushes = (await updatesOf(id)).slice(pushesBefore.length);
      expect(pushes.map((u) => `${u.destination_kind}:${u.destination_id}`)).toEqual(['helpdesk:zd']);
      expect(pushes[0]!.payload).toMatchObject({ change: { kind: 'status', actor: 'helpdesk:ud', version: 3 } });

      // The same report again changes nothing.
      expect((await hook('ud', changeTicketBody('5501', '1', '2'))).json()).toEqual({ accepted: 1, unknown: 0 });
      expect((await ticketNow(id)).version).toBe(3);
      expect(await updatesOf(id)).toHaveLength(pushesBefore.length + 1);
    });

    it('finds a ticket by the additional_id it echoes before the link is known, and keeps the link', async () => {
      clock.now = T0;
      const id = await openTicket();
      const res = await hook('ud', changeTicketBody('5502', '8', '1', { additionalId: id }));
      expect(res.json()).toEqual({ accepted: 1, unknown: 0 });
      expect(await ticketNow(id)).toMatchObject({ status: 'open', first_response_at: T0.toISOString(), external: [{ helpdesk: 'ud', id: '5502', status: '1' }] });
      expect((await hook('ud', changeTicketBody('999999', '1', '2'))).json()).toEqual({ accepted: 0, unknown: 1 });
    });

    it('refuses a wrong token with 401 and changes nothing', async () => {
      clock.now = T0;
      const id = await openTicket();
      await upsertTicketLink(store.db, { ticketId: id, helpdeskId: 'ud', externalId: '5503', externalStatus: '8' }, clock.now);
      const before = await ticketNow(id);
      const res = await hook('ud', changeTicketBody('5503', '8', '2', { secret: 'not-the-token' }));
      expectProblem(res, 401);
      expect(await ticketNow(id)).toEqual(before);
      expect(await history(id)).toHaveLength(1);
      expect(await updatesOf(id)).toEqual([]);
    });

    it('answers 404 for a helpdesk that is not configured or does not report back', async () => {
      clock.now = T0;
      const id = await openTicket();
      await upsertTicketLink(store.db, { ticketId: id, helpdeskId: 'ud', externalId: '5504', externalStatus: '8' }, clock.now);
      for (const helpdesk of ['nope', 'zd']) {
        const res = await hook(helpdesk, changeTicketBody('5504', '8', '2'));
        expectProblem(res, 404);
      }
      expect(await ticketNow(id)).toMatchObject({ status: 'new', version: 1 });
    });
  });
});
