import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { MentionDocument } from '../../documents/mention.ts';
import type { TicketChange, TicketDocument, TicketEvent } from '../../documents/ticket.ts';
import { startUsedeskFake, type UsedeskFake } from '../../tests/helpers/usedesk-fake.ts';
import { startWebhookReceiver } from '../../tests/helpers/webhook-receiver.ts';
import type { DeliveryOutcome, HelpdeskDelivery } from './types.ts';
import { usedeskConfigSchema, usedeskConnector, type UsedeskConfig } from './usedesk.ts';

const TOKEN = 'e1cbe1c1c9d910ef2ae975215644cb53dd555de4';
const NOW = new Date('2026-11-22T10:00:00Z');
const CTX = { now: NOW, timeoutMs: 2000 };

const mention: MentionDocument = {
  id: '88123',
  source: '2gis',
  external_id: '2gis:review:5f1c9e0a',
  brand: 'Ромашка',
  brands: ['Ромашка'],
  target_id: '70000001012345678',
  url: 'https://2gis.ru/moscow/firm/70000001012345678/tab/reviews?review=5f1c9e0a&x=1',
  author: { name: 'Анна К.', handle: 'anna_k', id: '4403119', url: null, followers: 37 },
  title: null,
  text: 'Заказали доставку к 19:00, привезли в 22:40 <холодное>.\nКурьер нахамил.\n\nНа звонки не отвечают & «поддержка» молчит. <script>alert(1)</script>',
  rating: 1,
  published_at: '2026-11-22T08:41:00.000Z',
  first_seen_at: '2026-11-22T09:00:00.000Z',
  updated_at: '2026-11-22T09:00:00.000Z',
  lang: 'ru',
  sentiment: { label: 'negative', score: -0.93, model: 'rubert-tiny2', confidence: 0.96, low_confidence: false, reason: null },
  actionable: true,
  action_reasons: ['complaint'],
  cluster: null,
  corrected: { sentiment: false, actionable: false },
  metrics: {},
  reply: null,
  answered: false,
  details: { place: 'Ромашка, ул. Ленина 5' },
};

const ticket: TicketDocument = {
  id: '1042',
  seq: '5001',
  version: 1,
  status: 'new',
  status_reason: null,
  priority: 'high',
  team: 'care-ru',
  assignee: null,
  title: '[1★][2gis] Анна К.: Заказали доставку к 19:00, привезли в 22:40 <холодное>. Курьер нахамил. На звонки не…',
  brand: 'Ромашка',
  routed_by: null,
  created_at: '2026-11-22T09:00:05.000Z',
  updated_at: '2026-11-22T09:00:05.000Z',
  first_response_at: null,
  solved_at: null,
  first_response_due_at: '2026-11-22T13:00:05.000Z',
  resolution_due_at: '2026-11-24T09:00:05.000Z',
  sla_paused: false,
  breached: false,
  breaches: [],
  mention,
  cluster: null,
  external: [],
  deliveries: [],
};

function change(kind: string, changes: Record<string, unknown> = {}): TicketChange {
  return { kind, actor: 'system', changes, note: null, seq: '5002', version: 2, at: NOW.toISOString() };
}

function delivery(over: { ticket?: Partial<TicketDocument>; change?: TicketChange | null; link?: string | null; uncertain?: boolean } = {}): HelpdeskDelivery {
  const event: TicketEvent = {
    type: over.change ? 'ticket.updated' : 'ticket.created',
    timestamp: NOW.toISOString(),
    data: { ticket: { ...ticket, ...over.ticket }, change: over.change ?? null },
  };
  return {
    messageId: 'msg_ticket_1042_helpdesk_usedesk-main',
    event,
    link: over.link ? { externalId: over.link, externalStatus: '8' } : null,
    uncertain: over.uncertain ?? false,
  };
}

let fake: UsedeskFake;
let config: UsedeskConfig;

beforeAll(async () => {
  fake = await startUsedeskFake({ token: TOKEN, now: () => NOW });
});
afterAll(() => fake.close());

beforeEach(() => {
  fake.tickets.length = 0;
  fake.comments.length = 0;
  fake.updates.length = 0;
  fake.requests.length = 0;
  fake.onCreate = undefined;
  fake.setDown(false);
  fake.rateLimitNext(0, 0);
  config = usedeskConfigSchema.parse({
    id: 'usedesk-main', type: 'usedesk', url: `${fake.url}/`, apiToken: TOKEN,
    requester: { email: 'listening@romashka.example' }, channelId: 63818, groupByTeam: { 'care-ru': 4411, 'pr': 4412 },
  });
});

async function deliver(d: HelpdeskDelivery, c: UsedeskConfig = config): Promise<DeliveryOutcome> {
  return usedeskConnector.deliverTicket!(c, d, CTX);
}

describe('usedesk config', () => {
  it('defaults the Russian cloud, the shared requester name and 0.4 requests a second', () => {
    const parsed = usedeskConfigSchema.parse({ id: 'ud', type: 'usedesk', apiToken: 'x', requester: {} });
    expect(parsed).toMatchObject({ url: 'https://api.usedesk.ru', requester: { name: 'Social listening' }, requestsPerSecond: 0.4 });
    expect(usedeskConnector.minIntervalMs!(parsed)).toBe(2500);
    expect(usedeskConfigSchema.safeParse({ id: 'ud', type: 'usedesk', apiToken: 'x', extra: 1 }).success).toBe(false);
    expect(usedeskConfigSchema.safeParse({ id: 'ud', type: 'usedesk', apiToken: '' }).success).toBe(false);
  });
});

describe('usedesk deliverTicket: create', () => {
  it('files the ticket with the documented fields and returns Usedesk\'s ticket_id', async () => {
    const outcome = await deliver(delivery());
    expect(outcome).toEqual({ ok: true, status: 200, externalId: String(fake.tickets[0]!.id), externalStatus: '8' });
    expect(fake.requests.map((r) => r.path)).toEqual(['create/ticket']);
    const filed = fake.tickets[0]!;
    expect(filed).toMatchObject({
      additional_id: '1042', priority: 'urgent', status_id: 8, subject: ticket.title, tag: 'earshot, 2gis, negative, ru',
      client_name: 'Social listening', client_email: 'listening@romashka.example', client_id: null,
      channel_id: 63818, group_id: 4411, from: 'client',
    });
    expect(filed.body.additional_id).toBe('1042');
    // Escaped, paragraphs kept, the source linked with its & escaped, the facts listed.
    expect(filed.message).toContain('<p>Заказали доставку к 19:00, привезли в 22:40 &lt;холодное&gt;.<br>Курьер нахамил.</p>');
    expect(filed.message).toContain('<p>На звонки не отвечают &amp; «поддержка» молчит. &lt;script&gt;alert(1)&lt;/script&gt;</p>');
    expect(filed.message).not.toContain('<script>');
    expect(filed.message).toContain('<a href="https://2gis.ru/moscow/firm/70000001012345678/tab/reviews?review=5f1c9e0a&amp;x=1">');
    expect(filed.message).toContain('Author: Анна К. (@anna_k, 37 followers)');
    expect(filed.message).toContain('Rating: ★☆☆☆☆ (1/5)');
    expect(filed.message).toContain('Sentiment: negative (-0.93)');
    expect(filed.message).toContain('Why: complaint');
    expect(filed.message).toContain('Brand: Ромашка · Team: care-ru');
  });

  it('maps every priority, files a solved ticket as solved, cuts a long subject and uses a client_id when set', async () => {
    const withClient = usedeskConfigSchema.parse({ id: 'ud', type: 'usedesk', url: fake.url, apiToken: TOKEN, requester: { clientId: 242630 } });
    const cases = [['low', 'low'], ['normal', 'medium'], ['high', 'urgent'], ['urgent', 'extreme']] as const;
    for (const [ours, theirs] of cases) {
      await deliver(delivery({ ticket: { priority: ours } }), withClient);
      expect(fake.tickets.at(-1)!.priority).toBe(theirs);
    }
    expect(fake.tickets.at(-1)).toMatchObject({ client_id: 242630, client_name: null, channel_id: null, group_id: null });

    const outcome = await deliver(delivery({ ticket: { status: 'solved', title: 'Я'.repeat(300) } }));
    expect(outcome).toMatchObject({ ok: true, externalStatus: '2' });
    expect(fake.tickets.at(-1)).toMatchObject({ status_id: 2, subject: 'Я'.repeat(255) });
  });

  it('an uncertain create finds the ticket filed before and files no second one', async () => {
    // The first attempt's answer is lost: the ticket is stored, the connection is cut.
    fake.onCreate = () => {
      throw new Error('worker killed');
    };
    const lost = await deliver(delivery());
    expect(lost).toMatchObject({ ok: false, status: null, gone: false });
    expect(fake.tickets).toHaveLength(1);
    fake.onCreate = undefined;
    // Another ticket whose text happens to name ours must not be taken for it.
    await deliver(delivery({ ticket: { id: '10420', title: 'earshot:1042 elsewhere' } }));

    const again = await deliver(delivery({ uncertain: true }));
    expect(again).toEqual({ ok: true, status: 200, externalId: String(fake.tickets[0]!.id) });
    expect(fake.tickets.filter((t) => t.additional_id === '1042')).toHaveLength(1);
    expect(fake.requests.at(-1)).toMatchObject({ path: 'tickets', body: { query: 'earshot:1042', created_after: '2026-11-21 09:00' } });
  });

  it('an uncertain create that finds nothing creates the ticket', async () => {
    const outcome = await deliver(delivery({ uncertain: true }));
    expect(outcome).toMatchObject({ ok: true, externalId: String(fake.tickets[0]!.id) });
    expect(fake.requests.map((r) => r.path)).toEqual(['tickets', 'create/ticket']);
  });
});

describe('usedesk deliverTicket: updates', () => {
  let linked: string;
  beforeEach(async () => {
    await deliver(delivery());
    linked = String(fake.tickets[0]!.id);
    fake.requests.length = 0;
  });

  it('a status or priority change updates the ticket silently, as it is now', async () => {
    const status = await deliver(delivery({ link: linked, change: change('status', { status: { from: 'new', to: 'on_hold' } }), ticket: { status: 'on_hold' } }));
    expect(status).toEqual({ ok: true, status: 200, externalId: linked, externalStatus: '5' });
    const priority = await deliver(delivery({ link: linked, change: change('priority'), ticket: { priority: 'urgent' } }));
    expect(priority).toEqual({ ok: true, status: 200, externalId: linked });
    expect(fake.updates.map((u) => u.body)).toEqual([
      { ticket_id: Number(linked), status: 5, silent: true },
      { ticket_id: Number(linked), priority: 'extreme', silent: true },
    ]);
    expect(fake.tickets[0]).toMatchObject({ status_id: 5, priority: 'extreme' });
  });

  it('maps every status of ours to Usedesk\'s id', async () => {
    const expected = { new: 8, open: 1, pending: 6, on_hold: 5, solved: 2, closed: 3, spam: 7, ignored: 3 } as const;
    for (const [ours, id] of Object.entries(expected)) {
      await deliver(delivery({ link: linked, change: change('status'), ticket: { status: ours as TicketDocument['status'] } }));
      expect(fake.updates.at(-1)!.body.status).toBe(id);
    }
  });

  it('a team change moves the ticket to the team\'s group; an assignee change sends nothing', async () => {
    await deliver(delivery({ link: linked, change: change('team'), ticket: { team: 'pr' } }));
    expect(fake.updates.at(-1)!.body).toEqual({ ticket_id: Number(linked), group_id: 4412, silent: true });
    const before = fake.requests.length;
    expect(await deliver(delivery({ link: linked, change: change('assignee', { assignee: { from: null, to: 'olga' } }) }))).toEqual({ ok: true, status: 200, externalId: linked });
    expect(fake.requests).toHaveLength(before);
  });

  it('a copy of the story becomes a private comment with its source, url, author and text', async () => {
    const copy = { ...mention, id: '88124', source: 'yandex_maps', url: 'https://yandex.ru/maps/org/1/reviews?x=<b>', text: 'Та же история: 3 часа ждали <курьера>', author: { ...mention.author, name: 'Пётр', handle: null, followers: null } };
    const outcome = await deliver(delivery({ link: linked, change: change('copy_joined', { mention: copy }) }));
    expect(outcome).toEqual({ ok: true, status: 200, externalId: linked });
    expect(fake.comments).toHaveLength(1);
    const c = fake.comments[0]!;
    expect(c).toMatchObject({ ticket_id: Number(linked), type: 'private' });
    expect(c.message).toContain('Another copy of this story appeared');
    expect(c.message).toContain('Source: yandex_maps');
    expect(c.message).toContain('<a href="https://yandex.ru/maps/org/1/reviews?x=&lt;b&gt;">Open on yandex_maps</a>');
    expect(c.message).toContain('Author: Пётр');
    expect(c.message).toContain('Та же история: 3 часа ждали &lt;курьера&gt;');
  });

  it("the brand's answer on the source solves the ticket and is added as a comment", async () => {
    const reply = { text: 'Анна, приносим извинения!\n\nВернули деньги за заказ.', at: '2026-11-22T11:00:00.000Z' };
    const outcome = await deliver(delivery({ link: linked, change: change('answered_on_source', { reply }), ticket: { status: 'solved' } }));
    expect(outcome).toEqual({ ok: true, status: 200, externalId: linked, externalStatus: '2' });
    expect(fake.requests.map((r) => r.path)).toEqual(['update/ticket', 'create/comment']);
    expect(fake.tickets[0]!.status_id).toBe(2);
    expect(fake.comments[0]!.message).toBe('<p><b>Ромашка answered on 2gis (2026-11-22T11:00:00.000Z):</b></p><p>Анна, приносим извинения!</p><p>Вернули деньги за заказ.</p>');
  });

  it('an SLA warning or breach becomes a private comment', async () => {
    await deliver(delivery({ link: linked, change: change('sla_breached', { metric: 'first_response' }), ticket: { breached: true, breaches: ['first_response'] } }));
    expect(fake.comments[0]!.type).toBe('private');
    expect(fake.comments[0]!.message).toContain('SLA breached<br>First response due: 2026-11-22T13:00:05.000Z');
    expect(fake.comments[0]!.message).toContain('Missed: first_response');
  });

  it('an update whose create never succeeded creates the ticket', async () => {
    const outcome = await deliver(delivery({ change: change('status'), ticket: { status: 'open' } }));
    expect(outcome).toMatchObject({ ok: true, externalStatus: '1' });
    expect(fake.tickets).toHaveLength(2);
  });

  it('a ticket deleted in Usedesk answers 200 with an error: gone', async () => {
    const outcome = await deliver(delivery({ link: '999', change: change('status') }));
    expect(outcome).toEqual({ ok: false, status: 200, error: 'usedesk update/ticket: Ticket not found', retryAfterMs: null, gone: true });
  });
});

describe('usedesk deliverTicket: errors are the retry policy', () => {
  it('429 → retry after Retry-After', async () => {
    fake.rateLimitNext(1, 30);
    expect(await deliver(delivery())).toMatchObject({ ok: false, status: 429, retryAfterMs: 30_000, gone: false });
    expect(fake.tickets).toHaveLength(0);
    expect(await deliver(delivery())).toMatchObject({ ok: true });
  });

  it('503 and a refused connection → retry', async () => {
    fake.setDown(true);
    expect(await deliver(delivery())).toMatchObject({ ok: false, status: 503, retryAfterMs: null, gone: false });
    const nowhere = { ...config, url: 'http://127.0.0.1:9' };
    expect(await deliver(delivery(), nowhere)).toMatchObject({ ok: false, status: null, gone: false });
  });

  it('a wrong token → 401, gone, and no token in the error', async () => {
    const wrong = { ...config, apiToken: 'f00dfeedf00dfeedf00dfeedf00dfeedf00dfeed' };
    const outcome = await deliver(delivery(), wrong);
    expect(outcome).toMatchObject({ ok: false, status: 401, gone: true });
    expect(JSON.stringify(outcome)).not.toContain(wrong.apiToken);
  });

  it('an error body that echoes the request is redacted', async () => {
    // A proxy that answers 500 with what it was sent: the api_token is in the body.
    const echo = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => res.writeHead(500).end(`upstream failed for ${body}`));
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    try {
      const outcome = await deliver(delivery(), { ...config, url: `http://127.0.0.1:${(echo.address() as AddressInfo).port}` });
      expect(outcome).toMatchObject({ ok: false, status: 500, gone: false });
      expect(outcome.ok || outcome.error).toContain('upstream failed for {"api_token":"[api token]"');
      expect(JSON.stringify(outcome)).not.toContain(TOKEN);
    } finally {
      await new Promise<void>((resolve) => echo.close(() => resolve()));
    }
  });
});

describe('usedesk receive', () => {
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  beforeAll(async () => {
    receiver = await startWebhookReceiver(() => 200);
  });
  afterAll(() => receiver.close());

  const receive = (body: unknown, c: UsedeskConfig = config) =>
    usedeskConnector.receive!(c, { headers: { 'content-type': 'application/json' }, rawBody: typeof body === 'string' ? body : JSON.stringify(body) }, { now: NOW });

  it('reads the "change ticket" webhook Usedesk posts to the Redirect URL', async () => {
    await deliver(delivery());
    const id = fake.tickets[0]!.id;
    expect(await fake.sendWebhook(`${receiver.url}/hooks/usedesk`, id, 2)).toBe(200);
    const hook = receiver.received.at(-1)!;
    expect(receive(hook.body)).toEqual({ ok: true, changes: [{ externalId: String(id), ticketId: null, externalStatus: '2', status: 'solved' }] });
  });

  it('reads the "create ticket" webhook, with our additional_id', () => {
    const body = { secret: TOKEN, ticket: { id: '2261907', status_id: '1', subject: 'x', additional_id: '1042', group: '0' } };
    expect(receive(body)).toEqual({ ok: true, changes: [{ externalId: '2261907', ticketId: '1042', externalStatus: '1', status: 'open' }] });
  });

  it('maps every Usedesk status; a change that is not a status change gives none', () => {
    const expected: Record<number, string | null> = { 1: 'open', 2: 'solved', 3: 'closed', 4: 'closed', 5: 'on_hold', 6: 'pending', 7: 'spam', 8: 'new', 9: null, 10: 'closed' };
    for (const [id, status] of Object.entries(expected)) {
      const result = receive({ secret: TOKEN, ticket_id: 2261907, old_status: 1, new_status: Number(id) });
      expect(result).toEqual({ ok: true, changes: [{ externalId: '2261907', ticketId: null, externalStatus: id, status }] });
    }
    expect(receive({ secret: TOKEN, ticket_id: '2265179', data: [{ target: 'assignee', value: '2' }], old_status: '0', new_status: '0' })).toEqual({ ok: true, changes: [] });
  });

  it('a wrong or missing secret → 401; garbage → 400', () => {
    const body = { ticket_id: '2261907', old_status: '8', new_status: '2' };
    expect(receive({ ...body, secret: 'f00d' })).toMatchObject({ ok: false, status: 401 });
    expect(receive({ ...body, secret: TOKEN.slice(0, -1) + '0' })).toMatchObject({ ok: false, status: 401 });
    expect(receive(body)).toMatchObject({ ok: false, status: 401 });
    expect(receive('ticket_id=2261907&new_status=2')).toMatchObject({ ok: false, status: 400 });
    expect(receive('[1,2]')).toMatchObject({ ok: false, status: 400 });
    expect(receive({ secret: TOKEN, ticket_id: 'abc', new_status: '2' })).toMatchObject({ ok: false, status: 400 });
  });
});
