import type { FastifyInstance } from 'fastify';
import { Migrator, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookConnector } from '../delivery/connectors/webhook.ts';
import type { Destination } from '../delivery/outbox.ts';
import type { Store } from '../store/connect.ts';
import { migrateToLatest } from '../store/connect.ts';
import { recordDestinationAttempt } from '../store/destination-health.ts';
import { migrations } from '../store/migrations/index.ts';
import { createEmptyTestStore, createTestStore } from '../tests/helpers/test-store.ts';
import { basicTicketPolicy } from '../pipeline/ticket-policy.ts';
import { buildApp } from './app.ts';
import { createBearer, insertOutbox } from './test-seed.ts';

const NOW = new Date('2026-03-02T08:00:00Z');
const hoursAgo = (h: number) => new Date(NOW.getTime() - h * 3_600_000);

const CONFIGURED = new Set(['helpdesk:zendesk-main', 'channel:ops']);
const destinationOf = (kind: 'helpdesk' | 'channel', id: string): Destination | undefined =>
  CONFIGURED.has(`${kind}:${id}`) ? { connector: webhookConnector, config: { id, type: 'webhook' } } : undefined;

describe('GET /api/v1/destinations', () => {
  let store: Store;
  let app: FastifyInstance;
  let headers: { authorization: string };

  beforeAll(async () => {
    store = await createTestStore();
    app = await buildApp({ db: store.db, storeKind: store.kind, now: () => NOW, destinationOf });
    headers = await createBearer(store.db);

    // zendesk-main: three failures in a row, two deliveries waiting, one dead today and one dead long ago.
    for (const h of [3, 2, 1]) {
      await recordDestinationAttempt(store.db, { kind: 'helpdesk', id: 'zendesk-main', ok: false, dead: false, at: hoursAgo(h), status: 503, error: 'HTTP 503' });
    }
    await insertOutbox(store.db, { messageId: 'zd-1', attempts: 3 });
    await insertOutbox(store.db, { messageId: 'zd-2' });
    await insertOutbox(store.db, { messageId: 'zd-3', status: 'delivered' });
    const deadToday = await insertOutbox(store.db, { messageId: 'zd-4', status: 'dead', attempts: 8 });
    const deadLongAgo = await insertOutbox(store.db, { messageId: 'zd-5', status: 'dead', attempts: 8 });
    // Queued long before the pending ones: the oldest pending date counts pending rows only.
    await store.db.updateTable('outbox').set({ last_attempt_at: hoursAgo(2), created_at: hoursAgo(40) }).where('id', '=', deadToday).execute();
    await store.db.updateTable('outbox').set({ last_attempt_at: hoursAgo(30) }).where('id', '=', deadLongAgo).execute();
    await store.db.updateTable('outbox').set({ created_at: hoursAgo(4) }).where('message_id', '=', 'zd-1').execute();

    // ops: a failure, then a success; nothing waiting.
    await recordDestinationAttempt(store.db, { kind: 'channel', id: 'ops', ok: false, dead: false, at: hoursAgo(4), status: null, error: 'connect ECONNREFUSED' });
    await recordDestinationAttempt(store.db, { kind: 'channel', id: 'ops', ok: true, dead: false, at: hoursAgo(3), status: 200, error: null });

    // old-desk: gone from the config, its one delivery parked and never tried.
    await insertOutbox(store.db, { messageId: 'old-1', status: 'parked', destinationId: 'old-desk' });
  });
  afterAll(async () => {
    await app.close();
    await store.close();
  });

  it('lists every destination with its state, counts and last outcome, by kind and id', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/destinations', headers });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({
      data: [
        {
          kind: 'channel',
          id: 'ops',
          configured: true,
          state: 'ok',
          consecutive_failures: 0,
          failing_since: null,
          last_success_at: hoursAgo(3).toISOString(),
          last_failure_at: hoursAgo(4).toISOString(),
          last_status: 200,
          last_error: null,
          pending: 0,
          parked: 0,
          dead_24h: 0,
          oldest_pending_at: null,
        },
        {
          kind: 'helpdesk',
          id: 'old-desk',
          configured: false,
          state: 'unused',
          consecutive_failures: 0,
          failing_since: null,
          last_success_at: null,
          last_failure_at: null,
          last_status: null,
          last_error: null,
          pending: 0,
          parked: 1,
          dead_24h: 0,
          oldest_pending_at: null,
        },
        {
          kind: 'helpdesk',
          id: 'zendesk-main',
          configured: true,
          state: 'failing',
          consecutive_failures: 3,
          failing_since: hoursAgo(1).toISOString(),
          last_success_at: null,
          last_failure_at: hoursAgo(1).toISOString(),
          last_status: 503,
          last_error: 'HTTP 503',
          pending: 2,
          parked: 0,
          dead_24h: 1,
          oldest_pending_at: '2026-03-01T12:00:00.000Z',
        },
      ],
    });
  });

  it('marks nothing configured when the API has no config', async () => {
    const bare = await buildApp({ db: store.db, storeKind: store.kind, now: () => NOW });
    try {
      const res = await bare.inject({ method: 'GET', url: '/api/v1/destinations', headers });
      expect((res.json() as { data: { configured: boolean }[] }).data.map((d) => d.configured)).toEqual([false, false, false]);
    } finally {
      await bare.close();
    }
  });

  it('lists a configured destination that was never tried as unused', async () => {
    const configured = await buildApp({
      db: store.db, storeKind: store.kind, now: () => NOW, destinationOf,
      ticketPolicy: basicTicketPolicy({ defaultTeam: 'support', helpdesks: [{ id: 'brand-new-desk' }] }),
    });
    try {
      const res = await configured.inject({ method: 'GET', url: '/api/v1/destinations', headers });
      const fresh = (res.json() as { data: { kind: string; id: string; state: string; pending: number }[] }).data.find((d) => d.id === 'brand-new-desk');
      expect(fresh).toMatchObject({ kind: 'helpdesk', state: 'unused', pending: 0 });
    } finally {
      await configured.close();
    }
  });

  it('needs a key with the read scope', async () => {
    expect((await app.inject({ method: 'GET', url: '/api/v1/destinations' })).statusCode).toBe(401);
    const writer = await createBearer(store.db, ['write']);
    expect((await app.inject({ method: 'GET', url: '/api/v1/destinations', headers: writer })).statusCode).toBe(403);
  });
});

describe('migration 0009: destinations the outbox named before', () => {
  let store: Store;
  beforeAll(async () => {
    store = await createEmptyTestStore();
    const migrator = new Migrator({ db: store.db, provider: { getMigrations: async () => migrations } });
    const { error } = await migrator.migrateTo('0008-ticket-lifecycle');
    if (error) throw error;
  });
  afterAll(() => store?.close());

  it('are known from the start, with their last success and failure, as healthy', async () => {
    await sql`
      INSERT INTO outbox (message_id, destination_kind, destination_id, event_type, payload, status, attempts, next_attempt_at, last_attempt_at, delivered_at, created_at)
      VALUES ('a', 'helpdesk', 'zd', 'ticket.created', '{}', 'delivered', 1, ${hoursAgo(9)}, ${hoursAgo(9)}, ${hoursAgo(9)}, ${hoursAgo(9)}),
             ('b', 'helpdesk', 'zd', 'ticket.created', '{}', 'dead', 8, ${hoursAgo(2)}, ${hoursAgo(2)}, NULL, ${hoursAgo(8)}),
             ('c', 'channel', 'ops', 'ticket.created', '{}', 'parked', 0, ${hoursAgo(1)}, NULL, NULL, ${hoursAgo(1)});
    `.execute(store.db);
    expect(await migrateToLatest(store.db)).toContain('0009-destination-health');
    const app = await buildApp({ db: store.db, storeKind: store.kind, now: () => NOW });
    try {
      const res = await app.inject({ method: 'GET', url: '/api/v1/destinations', headers: await createBearer(store.db) });
      expect((res.json() as { data: Record<string, unknown>[] }).data.map((d) => [d.kind, d.id, d.state, d.last_success_at, d.last_failure_at, d.dead_24h, d.parked])).toEqual([
        ['channel', 'ops', 'unused', null, null, 0, 1],
        ['helpdesk', 'zd', 'ok', hoursAgo(9).toISOString(), hoursAgo(2).toISOString(), 1, 0],
      ]);
    } finally {
      await app.close();
    }
  });
});
