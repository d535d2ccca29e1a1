// Every list the API serves, run on a seeded store the shape of a busy deployment, and each query it sends
// EXPLAIN ANALYZEd: the big tables are read through their indexes (never a sequential scan, whose cost grows with
// the store), and no sort spills to disk.
import { CompiledQuery, Kysely, PostgresDialect } from 'kysely';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../api/app.ts';
import { encodeCursor } from '../api/cursor.ts';
import { createApiKey } from '../store/api-keys.ts';
import type { Store } from '../store/connect.ts';
import type { Database } from '../store/schema.ts';
import { seedBulkStore, type BulkStore } from './helpers/bulk-store.ts';
import { createTestStore } from './helpers/test-store.ts';

const NOW = new Date('2026-11-30T08:00:00Z');
// Enough rows that the planner scans a table only where no index serves.
const MENTIONS = 100_000;
const TICKETS = 20_000;
const BIG_TABLES = ['mentions', 'mention_brands', 'clusters', 'tickets', 'ticket_history', 'ticket_links', 'outbox', 'crawl_runs'];

/**
 * The sequential scans of big tables in a plan, but for those right under a Limit: a scan that stops after so many
 * rows (the inbox's capped count) reads no more than an index scan with the same filter would.
 */
function unboundedScans(plan: string): string[] {
  const nodes = plan.split('\n').flatMap((line, i) => {
    const arrow = line.indexOf('->  ');
    if (i > 0 && arrow < 0) return [];
    return [{ depth: i === 0 ? -1 : arrow, node: (i === 0 ? line : line.slice(arrow + 4)).trim() }];
  });
  return nodes.flatMap((n, i) => {
    const table = /^Seq Scan on (\w+)/.exec(n.node)?.[1];
    if (table === undefined || !BIG_TABLES.includes(table)) return [];
    const parent = nodes.slice(0, i).reverse().find((p) => p.depth < n.depth);
    return parent?.node.startsWith('Limit') ? [] : [table];
  });
}

describe('list queries on a seeded store', () => {
  let store: Store;
  let seeded: BulkStore;
  let app: FastifyInstance;
  let headers: Record<string, string>;
  // What the app sent to the database, in order, for the request being checked.
  let sent: CompiledQuery[] = [];

  beforeAll(async () => {
    store = await createTestStore();
    seeded = await seedBulkStore(store.db, { mentions: MENTIONS, tickets: TICKETS, now: NOW });
    // The app's queries go through a second Kysely on the same pool that keeps what it compiles.
    const recording = new Kysely<Database>({
      dialect: new PostgresDialect({ pool: store.pool }),
      log: (event) => {
        sent.push(event.query);
      },
    });
    app = await buildApp({ db: recording, storeKind: store.kind, now: () => NOW });
    headers = { authorization: `Bearer ${(await createApiKey(store.db, { name: 'plans', scopes: ['read'] })).key}` };
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  it('is a store with the shape the lists are checked on', async () => {
    expect(seeded).toMatchObject({ mentions: MENTIONS, clusters: MENTIONS * 0.8, tickets: TICKETS });
    // Written in bulk with the foreign keys off: check them here.
    const broken = await store.db.executeQuery<{ mentions: string; clusters: string; tickets: string; brands: string }>(CompiledQuery.raw(`
      SELECT
        (SELECT count(*) FROM mentions m WHERE NOT EXISTS (SELECT 1 FROM clusters c WHERE c.id = m.cluster_id)) AS mentions,
        (SELECT count(*) FROM clusters c WHERE NOT EXISTS (SELECT 1 FROM mentions m WHERE m.id = c.representative_id)
           OR c.size <> (SELECT count(*) FROM mentions m WHERE m.cluster_id = c.id)) AS clusters,
        (SELECT count(*) FROM tickets t JOIN mentions m ON m.id = t.mention_id WHERE m.cluster_id <> t.cluster_id) AS tickets,
        (SELECT count(*) FROM mentions m WHERE NOT EXISTS (SELECT 1 FROM mention_brands b WHERE b.mention_id = m.id AND b.brand_id = m.brand_id)) AS brands
    `));
    expect(broken.rows[0]).toEqual({ mentions: '0', clusters: '0', tickets: '0', brands: '0' });
  });

  const lists: Array<[string, () => string]> = [
    ['mentions, newest first', () => '/api/v1/mentions?limit=50'],
    ['mentions of a brand, negative', () => '/api/v1/mentions?limit=50&brand=Halyk&sentiment=negative'],
    ['mentions of a source since a day', () => `/api/v1/mentions?source=telegram&since=${new Date(NOW.getTime() - 86_400_000).toISOString()}`],
    ['mentions, a deep cursor', () => `/api/v1/mentions?limit=50&cursor=${encodeCursor({ id: String(MENTIONS / 2) })}`],
    ['mentions of a story', () => '/api/v1/mentions?cluster=49999'],
    ['a mention with its story and ticket', () => '/api/v1/mentions/49999'],
    ['a mention\'s corrections', () => '/api/v1/mentions/49999/corrections'],
    ['the ticket feed from the start', () => '/api/v1/tickets?limit=100'],
    ['the ticket feed, a deep cursor', () => `/api/v1/tickets?limit=100&cursor=${encodeCursor({ seq: String(TICKETS / 2) })}`],
    ['the ticket feed, one status', () => '/api/v1/tickets?limit=100&status=open'],
    ['a ticket', () => '/api/v1/tickets/10000'],
    ['a ticket\'s history', () => '/api/v1/tickets/10000/history'],
    ['targets', () => '/api/v1/targets'],
    ['inbox: needs reply', () => '/api/v1/inbox?view=needs_reply&limit=50'],
    ['inbox: needs reply of a team, newest', () => '/api/v1/inbox?view=needs_reply&team=smm&sort=newest&limit=50'],
    ['inbox: tickets, solved', () => '/api/v1/inbox?view=tickets&status=solved&limit=50'],
    ['inbox: mentions', () => '/api/v1/inbox?view=mentions&limit=50'],
    ['inbox: mentions of a brand, negative', () => '/api/v1/inbox?view=mentions&brand=Kaspi&sentiment=negative&limit=50'],
    ['inbox: mentions of a target in a week', () =>
      `/api/v1/inbox?view=mentions&target=halyk-2gis&since=${new Date(NOW.getTime() - 7 * 86_400_000).toISOString()}&limit=50`],
    ['deliveries', () => '/api/v1/deliveries?limit=50'],
    ['incidents', () => '/api/v1/incidents'],
  ];

  it.each(lists)('%s: reads the big tables through their indexes, sorts in memory', async (_name, url) => {
    sent = [];
    const res = await app.inject({ method: 'GET', url: url(), headers });
    expect(res.statusCode, res.body).toBe(200);
    const reads = sent.filter((q) => /^\s*(select|with)\b/i.test(q.sql) && !/\b(insert|update|delete)\b/i.test(q.sql));
    expect(reads.length).toBeGreaterThan(0);
    for (const query of reads) {
      const plan = await store.db.executeQuery<{ 'QUERY PLAN': string }>(
        CompiledQuery.raw(`EXPLAIN (ANALYZE, COSTS OFF) ${query.sql}`, [...query.parameters]),
      );
      const text = plan.rows.map((r) => r['QUERY PLAN']).join('\n');
      expect(unboundedScans(text), `${query.sql}\n${text}`).toEqual([]);
      expect(text, `${query.sql}\n${text}`).not.toMatch(/Sort Method: external|Disk: /);
    }
  });
});
