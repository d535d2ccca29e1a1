import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../api/app.ts';
import { loadConfig } from '../config/load.ts';
import type { EarshotConfig } from '../config/schema.ts';
import { createHttpClient } from '../crawlers/http.ts';
import { crawlers } from '../crawlers/registry.ts';
import type { TicketDocument } from '../documents/ticket.ts';
import { deliverDueOutbox, type DeliveryDeps } from '../delivery/outbox.ts';
import { silentLogger } from '../log/logger.ts';
import { runCrawl, type CrawlTarget } from '../scheduler/run-crawl.ts';
import { destinationsOf, ticketPolicyOf } from '../scheduler/sync-config.ts';
import { createApiKey } from '../store/api-keys.ts';
import { upsertBrand } from '../store/brands.ts';
import type { Store } from '../store/connect.ts';
import { upsertTarget } from '../store/targets.ts';
import { testCrawlDeps } from './helpers/crawl-deps.ts';
import { startFixtureServer, type FixtureServer } from './helpers/fixture-server.ts';
import { createTestStore } from './helpers/test-store.ts';
import { startUsedeskFake, type UsedeskFake } from './helpers/usedesk-fake.ts';
import { startZendeskFake } from './helpers/zendesk-fake.ts';

// A 2GIS branch crawled three times: the first crawl opens tickets, the second brings a copy of one review's
// story, the third the brand's official answer to it. Both native helpdesks hear of all of it, once each.
const BRANCH = '70000001000000042';
const API_PATH = `/3.0/branches/${BRANCH}/reviews`;
const FIRM_PATH = `/almaty/firm/${BRANCH}`;
const PAGE_2 = `${API_PATH}?${new URLSearchParams({ offset_date: '2026-07-13T18:02:59.330017+05:00' })}`;
const RECENT = new Date('2026-07-15T12:00:00Z');
const USEDESK_TOKEN = 'e1cbe1c1c9d910ef2ae975215644cb53dd555de4';
const ZENDESK = { email: 'agent@acme.kz', token: 'zd-api-token-0123456789', webhookSecret: 'zd-webhook-secret-abcdef' };

const fixture = (name: string) => readFileSync(new URL(`../crawlers/2gis/fixtures/${name}`, import.meta.url), 'utf8');
type Review = Record<string, unknown> & { id: string; text: string; official_answer: unknown };
const page1 = JSON.parse(fixture('constructed-reviews-page-1.json')) as { meta: unknown; reviews: Review[] };
const page2 = fixture('constructed-reviews-page-2.json');

/** The branch's first page as 2GIS would show it later: a newer review copying one, or the brand's answer. */
function pageWith(reviews: Review[]): string {
  return JSON.stringify({ ...page1, reviews });
}

describe('tickets in Usedesk and Zendesk, with status coming back', () => {
  let store: Store;
  let upstream: FixtureServer;
  let usedesk: UsedeskFake;
  let zendesk: Awaited<ReturnType<typeof startZendeskFake>>;
  let app: FastifyInstance;
  let appUrl: string;
  let config: EarshotConfig;
  let firstPage = pageWith(page1.reviews);
  const clock = { now: RECENT };
  let key: string;

  beforeAll(async () => {
    store = await createTestStore();
    upstream = await startFixtureServer({
      [FIRM_PATH]: { headers: { 'content-type': 'text/html; charset=utf-8' }, body: fixture('firm-page-2gis-ae.html') },
      [API_PATH]: (_req, res) => {
        res.setHeader('content-type', 'application/json; charset=utf-8');
        res.end(firstPage);
      },
      [PAGE_2]: { headers: { 'content-type': 'application/json; charset=utf-8' }, body: page2 },
    });
    usedesk = await startUsedeskFake({ token: USEDESK_TOKEN, now: () => clock.now });
    zendesk = await startZendeskFake({ ...ZENDESK, now: () => clock.now });
    // The config shape of the README, read by the real loader.
    const dir = mkdtempSync(join(tmpdir(), 'earshot-helpdesks-'));
    writeFileSync(join(dir, 'earshot.yaml'), [
      'brands: [{ name: Acme Coffee, keywords: [acme] }]',
      'teams: [{ id: support, name: Support }, { id: almaty, name: Almaty }]',
      'routing: { defaultTeam: support }',
      'network: { allowPrivate: true } # the fakes listen on 127.0.0.1',
      'helpdesks:',
      `  - { id: ud, type: usedesk, url: "${usedesk.url}", apiToken: "\${USEDESK_TOKEN}" }`,
      `  - { id: zd, type: zendesk, url: "${zendesk.url}", email: ${ZENDESK.email}, apiToken: "\${ZENDESK_TOKEN}", webhookSecret: "\${ZENDESK_WEBHOOK_SECRET}" }`,
    ].join('\n'));
    config = loadConfig(join(dir, 'earshot.yaml'), {
      crawlers,
      env: { USEDESK_TOKEN, ZENDESK_TOKEN: ZENDESK.token, ZENDESK_WEBHOOK_SECRET: ZENDESK.webhookSecret },
    });
    app = await buildApp({ db: store.db, storeKind: store.kind, now: () => clock.now, ticketPolicy: ticketPolicyOf(config), destinationOf: destinationsOf(config) });
    appUrl = await app.listen({ host: '127.0.0.1', port: 0 });
    key = (await createApiKey(store.db, { name: 'helpdesk', scopes: ['read'] })).key;
  });
  afterAll(async () => {
    await app?.close();
    await Promise.all([upstream?.close(), usedesk?.close(), zendesk?.close()]);
    await store?.close();
  });

  async function crawl() {
    const brand = await upsertBrand(store.db, { name: 'Acme Coffee', keywords: ['acme'] }, clock.now);
    const target: CrawlTarget = {
      id: '2gis-almaty', source: '2gis', brands: [brand], team: 'almaty',
      params: { branchId: BRANCH, city: 'almaty', baseUrl: upstream.url, reviewsApiUrl: `${upstream.url}/3.0/` },
    };
    await upsertTarget(store.db, { id: target.id, source: '2gis', brandIds: [brand.id], params: target.params as Record<string, unknown>, schedule: '20 */4 * * *', enabled: true }, clock.now);
    const deps = testCrawlDeps(store.db, {
      httpFor: () => createHttpClient({ perHostPerSecond: 0, retries: 0 }), now: () => clock.now, log: silentLogger, policy: ticketPolicyOf(config),
    });
    return runCrawl(deps, target);
  }

  async function deliverAll() {
    const deps: DeliveryDeps = { db: store.db, now: () => clock.now, policy: config.delivery, destinationOf: destinationsOf(config), log: silentLogger };
    let delivered = 0;
    for (;;) {
      const report = await deliverDueOutbox(deps);
      delivered += report.delivered;
      expect(report.dead).toBe(0);
      if (report.delivered + report.retrying + report.dead + report.parked === 0) return delivered;
    }
  }

  async function ticketByExternal(review: string): Promise<TicketDocument> {
    const res = await app.inject({ method: 'GET', url: '/api/v1/tickets?limit=500', headers: { authorization: `Bearer ${key}` } });
    const found = (res.json() as { data: TicketDocument[] }).data.find((t) => t.mention.external_id === review);
    expect(found, review).toBeDefined();
    return found!;
  }

  it('a crawl that opens tickets creates each once in Usedesk and in Zendesk, with our id in additional_id and external_id', async () => {
    expect(await crawl()).toMatchObject({ status: 'ok', tickets: 2 });
    expect(await deliverAll()).toBe(4);
    const ours = await Promise.all(['230000113', '230000109'].map(ticketByExternal));
    expect(usedesk.tickets.map((t) => t.additional_id).sort()).toEqual(ours.map((t) => t.id).sort());
    expect([...zendesk.tickets.values()].map((t) => t.external_id).sort()).toEqual(ours.map((t) => t.id).sort());
    for (const t of ours) {
      expect(t.team).toBe('almaty');
      expect(t.external.map((e) => e.helpdesk).sort()).toEqual(['ud', 'zd']);
      expect(t.deliveries.filter((d) => d.destination_kind === 'helpdesk').every((d) => d.status === 'delivered' && d.attempts === 1)).toBe(true);
    }
    // Nothing is due again: a second round sends nothing.
    expect(await deliverAll()).toBe(0);
  });

  it('a copy of the story adds a comment in both helpdesks, not a ticket', async () => {
    const original = page1.reviews.find((r) => r.id === '230000113')!;
    const copy: Review = { ...original, id: '230000120', user: { name: 'Дана' }, date_created: '2026-07-15T17:10:00.000000+05:00' };
    firstPage = pageWith([copy, ...page1.reviews]);
    clock.now = new Date(RECENT.getTime() + 4 * 3_600_000);
    expect(await crawl()).toMatchObject({ status: 'ok', new: 1, tickets: 0 });
    expect(await deliverAll()).toBe(2);
    expect(usedesk.tickets).toHaveLength(2);
    expect(zendesk.tickets.size).toBe(2);
    const ticket = await ticketByExternal('230000113');
    const udId = Number(ticket.external.find((e) => e.helpdesk === 'ud')!.id);
    const zdId = Number(ticket.external.find((e) => e.helpdesk === 'zd')!.id);
    expect(usedesk.comments.filter((c) => c.ticket_id === udId).map((c) => c.message).join()).toContain('Дана');
    expect(zendesk.tickets.get(zdId)!.comments.slice(1).map((c) => c.html_body).join()).toContain('Дана');
    expect(ticket.cluster?.size).toBe(2);
  });

  it("the brand's official answer on 2GIS solves the ticket, and both helpdesks hear of it", async () => {
    const answered = page1.reviews.map((r) =>
      r.id === '230000113' ? { ...r, official_answer: { text: 'Спасибо, протёрли столики и починили кондиционер.', date_created: '2026-07-15T20:00:00.000000+05:00' } } : r,
    );
    firstPage = pageWith(answered);
    clock.now = new Date(RECENT.getTime() + 8 * 3_600_000);
    expect(await crawl()).toMatchObject({ status: 'ok', updated: 1 });
    const ticket = await ticketByExternal('230000113');
    expect(ticket).toMatchObject({ status: 'solved', status_reason: 'answered_on_source', first_response_at: '2026-07-15T15:00:00.000Z' });
    expect(await deliverAll()).toBe(2);
    const udId = Number(ticket.external.find((e) => e.helpdesk === 'ud')!.id);
    const zdId = Number(ticket.external.find((e) => e.helpdesk === 'zd')!.id);
    expect(usedesk.tickets.find((t) => t.id === udId)!.status_id).toBe(2);
    expect(usedesk.comments.filter((c) => c.ticket_id === udId).map((c) => c.message).join()).toContain('протёрли столики');
    expect(zendesk.tickets.get(zdId)!.status).toBe('solved');
  });

  it("the helpdesk's solved webhook moves our status, the change feed shows it once, and the other helpdesk hears of it", async () => {
    const feed = async (cursor?: string) => {
      const res = await app.inject({ method: 'GET', url: `/api/v1/tickets${cursor ? `?cursor=${cursor}` : ''}`, headers: { authorization: `Bearer ${key}` } });
      return res.json() as { data: TicketDocument[]; next_cursor: string };
    };
    const before = await feed();
    const ticket = await ticketByExternal('230000109');
    const udId = Number(ticket.external.find((e) => e.helpdesk === 'ud')!.id);

    expect(await usedesk.sendWebhook(`${appUrl}/api/v1/helpdesks/ud/webhook`, udId, 2)).toBe(200);
    const after = await feed(before.next_cursor);
    expect(after.data.map((t) => [t.id, t.status])).toEqual([[ticket.id, 'solved']]);
    expect(after.data[0]!.first_response_at).not.toBeNull();
    expect((await feed(after.next_cursor)).data).toEqual([]);

    // Usedesk made the change, so only Zendesk is told.
    expect(await deliverAll()).toBe(1);
    const zdId = Number(ticket.external.find((e) => e.helpdesk === 'zd')!.id);
    expect(zendesk.tickets.get(zdId)!.status).toBe('solved');
    expect(usedesk.requests.filter((r) => r.path === 'update/ticket' && Number(r.body?.ticket_id) === udId)).toEqual([]);
    expect(usedesk.requests.filter((r) => r.path === 'update/ticket').length).toBeGreaterThan(0);

    // Zendesk reopening it comes back the same way, signed.
    zendesk.tickets.get(zdId)!.status = 'open';
    expect(await zendesk.sendWebhook(`${appUrl}/api/v1/helpdesks/zd/webhook`, zdId)).toBe(200);
    expect((await ticketByExternal('230000109')).status).toBe('open');
    expect(await zendesk.sendWebhook(`${appUrl}/api/v1/helpdesks/zd/webhook`, zdId, 'not-the-secret')).toBe(401);
  });

  it('keeps one ticket per helpdesk: deliveries per ticket and the history say so', async () => {
    const tickets = await store.db.selectFrom('tickets').select('id').execute();
    expect(usedesk.tickets).toHaveLength(tickets.length);
    expect(zendesk.tickets.size).toBe(tickets.length);
    const creates = await store.db.selectFrom('outbox').select(['ticket_id', 'attempts']).where('event_type', '=', 'ticket.created').execute();
    expect(creates).toHaveLength(tickets.length * 2);
    expect(creates.every((c) => c.attempts === 1)).toBe(true);
  });
});
