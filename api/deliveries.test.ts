import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../store/connect.ts';
import { createTestStore } from '../tests/helpers/test-store.ts';
import { buildApp } from './app.ts';
import { createBearer, insertBrand, insertMention, insertOutbox, insertTicket } from './test-seed.ts';

interface PageJson {
  data: Record<string, unknown>[];
  next_cursor: string | null;
  has_more: boolean;
}

const NOW = new Date('2026-03-02T08:00:00Z');

describe('GET /api/v1/deliveries', () => {
  let store: Store;
  let app: FastifyInstance;
  let headers: { authorization: string };
  let ticketId: string;
  const ids: string[] = [];

  beforeAll(async () => {
    store = await createTestStore();
    app = await buildApp({ db: store.db, storeKind: store.kind, now: () => NOW });
    headers = await createBearer(store.db);
    const brandId = await insertBrand(store.db, 'Acme');
    ticketId = (await insertTicket(store.db, { mentionId: await insertMention(store.db, { brandId, externalId: 'x' }), brandId })).id;
    const statuses = ['delivered', 'pending', 'dead', 'pending', 'dead'] as const;
    for (const [i, status] of statuses.entries()) {
      ids.push(
        await insertOutbox(store.db, {
          messageId: `msg-${i}`,
          ticketId: i === 2 ? ticketId : null,
          status,
          attempts: status === 'dead' ? 8 : 1,
          lastStatus: status === 'dead' ? 500 : null,
          lastError: status === 'dead' ? 'HTTP 500 from helpdesk' : null,
        }),
      );
    }
  });
  afterAll(async () => {
    await app.close();
    await store.close();
  });

  const get = async (query: string) => {
    const res = await app.inject({ method: 'GET', url: `/api/v1/deliveries${query}`, headers });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as PageJson;
  };

  it('filters by status, newest first, and shows why a delivery died', async () => {
    const dead = await get('?status=dead');
    expect(dead.data.map((d) => d.id)).toEqual([ids[4], ids[2]]);
    expect(dead.data[1]).toEqual({
      id: ids[2],
      message_id: 'msg-2',
      destination_kind: 'helpdesk',
      destination_id: 'zendesk-main',
      event_type: 'ticket.created',
      ticket_id: ticketId,
      status: 'dead',
      attempts: 8,
      next_attempt_at: '2026-03-01T12:00:00.000Z',
      last_attempt_at: null,
      last_status: 500,
      last_error: 'HTTP 500 from helpdesk',
      delivered_at: null,
      created_at: '2026-03-01T12:00:00.000Z',
    });
    expect((await get('?status=delivered')).data.map((d) => d.message_id)).toEqual(['msg-0']);
    expect((await get('?status=pending')).data.map((d) => d.message_id)).toEqual(['msg-3', 'msg-1']);
    expect((await get('?status=parked')).data).toEqual([]);
  });

  it('pages with a cursor without skipping or repeating', async () => {
    const seen: unknown[] = [];
    let cursor: string | null = null;
    do {
      const page: PageJson = await get(`?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.data.map((d) => d.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
  });

  it('rejects an unknown status', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/deliveries?status=failed', headers });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0].path).toBe('querystring.status');
  });

  it('filters by destination, event and ticket', async () => {
    expect((await get(`?ticket_id=${ticketId}`)).data.map((d) => d.id)).toEqual([ids[2]]);
    expect((await get('?destination_kind=helpdesk&destination_id=zendesk-main&event_type=ticket.created')).data).toHaveLength(ids.length);
    expect((await get('?destination_id=usedesk')).data).toEqual([]);
    expect((await get('?destination_kind=channel')).data).toEqual([]);
  });

  it('replays a dead delivery from its first attempt, and refuses a pending one, an unknown one and a read-only key', async () => {
    const writer = await createBearer(store.db, ['read', 'write']);
    const replay = (id: string, auth = writer) => app.inject({ method: 'POST', url: `/api/v1/deliveries/${id}/replay`, headers: auth });

    expect((await replay(ids[4]!, headers)).statusCode).toBe(403);
    const res = await replay(ids[4]!);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ id: ids[4], status: 'pending', attempts: 0, next_attempt_at: NOW.toISOString(), last_error: 'HTTP 500 from helpdesk' });
    expect((await get('?status=pending')).data.map((d) => d.id)).toEqual([ids[4], ids[3], ids[1]]);

    const again = await replay(ids[4]!);
    expect(again.statusCode).toBe(409);
    expect(again.headers['content-type']).toContain('application/problem+json');
    expect((await replay('999999')).statusCode).toBe(404);
  });
});

