import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { MentionDocument } from '../../documents/mention.ts';
import type { TicketChange, TicketDocument, TicketEvent } from '../../documents/ticket.ts';
import { startZendeskFake } from '../../tests/helpers/zendesk-fake.ts';
import type { HelpdeskDelivery, InboundChange, InboundResult } from './types.ts';
import {
  fromZendeskStatus, signZendeskWebhook, toZendeskStatus, ZENDESK_WEBHOOK_BODY, zendeskConfigSchema, zendeskConnector,
  type ZendeskConfig,
} from './zendesk.ts';

const NOW = new Date('2026-11-22T10:00:00Z');
const EMAIL = 'bot@acme.example';
const TOKEN = 'zd-token-6wiIBWbGkBMo1mRDMuVwkw1EPsNkeUj95PIz2akv';
const WEBHOOK_SECRET = 'dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==';
const CTX = { now: NOW, timeoutMs: 2000 };

function makeMention(overrides: Partial<MentionDocument> = {}): MentionDocument {
  return {
    id: 'mnt_01JD8Z4Q2W', source: 'app-store', external_id: '11223344556', brand: 'acme', brands: ['acme'], target_id: 'acme-ios',
    url: 'https://apps.apple.com/us/app/acme-bank/id1234567890?see-all=reviews',
    author: { name: 'Jamie R.', handle: null, id: null, url: null, followers: null },
    title: 'App crashes on login <again>',
    text: 'Since the last update the app crashes every time I log in & I can\'t pay my bills.\n\nFix it or I\'m switching banks. <script>alert(1)</script>',
    rating: 1, published_at: '2026-11-22T08:41:00.000Z', first_seen_at: '2026-11-22T09:00:00.000Z', updated_at: '2026-11-22T09:00:00.000Z',
    lang: 'en',
    sentiment: { label: 'negative', score: -0.91, model: 'earshot-en-1', confidence: 0.97, low_confidence: false, reason: null },
    actionable: true, action_reasons: ['complaint', 'churn_threat'], cluster: null,
    corrected: { sentiment: false, actionable: false }, metrics: {}, reply: null, answered: false, details: { version: '5.2.0' },
    ...overrides,
  };
}

function makeTicket(overrides: Partial<TicketDocument> = {}): TicketDocument {
  return {
    id: 'tkt_01JD8Z5K7E', seq: '41', version: 1, status: 'new', status_reason: null, priority: 'high', team: 'mobile',
    assignee: null, title: '[NEG][App Store] Jamie R.: App crashes on login <again>', brand: 'acme', routed_by: 'app-reviews',
    created_at: '2026-11-22T09:00:01.000Z', updated_at: '2026-11-22T09:00:01.000Z', first_response_at: null, solved_at: null,
    first_response_due_at: '2026-11-22T11:00:01.000Z', resolution_due_at: '2026-11-23T09:00:01.000Z', sla_paused: false,
    breached: false, breaches: [], mention: makeMention(), cluster: null, external: [], deliveries: [],
    ...overrides,
  };
}

function change(kind: string, changes: Record<string, unknown> = {}, note: string | null = null): TicketChange {
  return { kind, actor: 'system', changes, note, seq: '42', version: 2, at: NOW.toISOString() };
}

function delivery(
  ticket: TicketDocument,
  opts: { change?: TicketChange | null; link?: string | null; messageId?: string; uncertain?: boolean } = {},
): HelpdeskDelivery {
  const event: TicketEvent = {
    type: opts.link ? 'ticket.updated' : 'ticket.created',
    timestamp: NOW.toISOString(),
    data: { ticket, change: opts.change ?? null },
  };
  return {
    messageId: opts.messageId ?? `msg_${Math.random().toString(36).slice(2)}`,
    event,
    link: opts.link ? { externalId: opts.link, externalStatus: null } : null,
    uncertain: opts.uncertain ?? false,
  };
}

describe('zendesk connector against the fake', () => {
  let fake: Awaited<ReturnType<typeof startZendeskFake>>;
  let config: ZendeskConfig;
  const deliver = (d: HelpdeskDelivery, c: ZendeskConfig = config) => zendeskConnector.deliverTicket!(c, d, CTX);

  beforeAll(async () => {
    fake = await startZendeskFake({ email: EMAIL, token: TOKEN, webhookSecret: WEBHOOK_SECRET, now: () => NOW });
    config = zendeskConfigSchema.parse({
      id: 'zendesk', type: 'zendesk', url: `${fake.url}/`, email: EMAIL, apiToken: TOKEN, webhookSecret: WEBHOOK_SECRET,
      groupByTeam: { mobile: 360001 },
    });
  });
  afterAll(() => fake.close());
  beforeEach(() => {
    fake.onCreate = undefined;
    fake.setDown(false);
  });

  async function createTicket(ticket = makeTicket()) {
    const outcome = await deliver(delivery(ticket));
    if (!outcome.ok) throw new Error(outcome.error);
    return outcome.externalId!;
  }

  it('creates a ticket with the documented fields, our id as external_id and an Idempotency-Key', async () => {
    const ticket = makeTicket();
    const d = delivery(ticket, { messageId: 'msg_create_1' });
    const outcome = await deliver(d);
    expect(outcome).toMatchObject({ ok: true, status: 201, externalStatus: 'new' });
    const created = fake.tickets.get(Number(outcome.ok && outcome.externalId))!;

    const sent = fake.requests.at(-1)!;
    expect(sent.method).toBe('POST');
    expect(sent.path).toBe('/api/v2/tickets.json');
    expect(sent.headers['idempotency-key']).toBe('msg_create_1');
    expect(sent.headers.authorization).toBe(`Basic ${Buffer.from(`${EMAIL}/token:${TOKEN}`).toString('base64')}`);
    expect(sent.idempotencyLookup).toBe('miss');

    expect(created).toMatchObject({
      external_id: 'tkt_01JD8Z5K7E', subject: ticket.title, priority: 'high', type: 'incident', status: 'new', group_id: 360001,
      requester: { name: 'Social listening' }, tags: ['earshot', 'source_app-store', 'sentiment_negative', 'lang_en'],
    });
    expect(JSON.parse(sent.body).ticket).not.toHaveProperty('status');
    const [comment] = created.comments;
    expect(comment!.public).toBe(false);
    const html = comment!.html_body!;
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('log in &amp; I can&#39;t pay my bills.</p><p>Fix it');
    expect(html).toContain('<a href="https://apps.apple.com/us/app/acme-bank/id1234567890?see-all=reviews">');
    expect(html).toContain('★☆☆☆☆ (1/5)');
    for (const fact of ['Jamie R.', 'negative', 'churn threat', 'Brand: acme', 'Team: mobile', 'tkt_01JD8Z5K7E']) expect(html).toContain(fact);
  });

  it('replays a create whose answer was lost without making a second ticket', async () => {
    const before = fake.tickets.size;
    fake.onCreate = () => 'drop';
    const d = delivery(makeTicket({ id: 'tkt_replay', status: 'open' }), { messageId: 'msg_replay' });
    const lost = await deliver(d);
    expect(lost).toMatchObject({ ok: false, status: null, gone: false });
    expect(fake.tickets.size).toBe(before + 1);

    fake.onCreate = undefined;
    const replay = await deliver(d);
    expect(replay).toMatchObject({ ok: true, status: 201, externalStatus: 'open' });
    expect(fake.tickets.size).toBe(before + 1);
    expect(fake.requests.at(-1)!.idempotencyLookup).toBe('hit');
    const shown = await fetch(`${fake.url}/api/v2/tickets/${replay.ok && replay.externalId}.json`, {
      headers: { authorization: `Basic ${Buffer.from(`${EMAIL}/token:${TOKEN}`).toString('base64')}` },
    });
    expect(shown.status).toBe(200);
    expect(((await shown.json()) as { ticket: unknown }).ticket).toMatchObject({ external_id: 'tkt_replay', status: 'open' });
  });

  /** A create that lands in Zendesk but whose answer is lost; returns the Zendesk id. */
  async function createUnanswered(ticket: TicketDocument, messageId: string) {
    fake.onCreate = () => 'drop';
    const lost = await deliver(delivery(ticket, { messageId }));
    fake.onCreate = undefined;
    expect(lost).toMatchObject({ ok: false, status: null });
    return [...fake.tickets.values()].find((t) => t.external_id === ticket.id)!.id;
  }
  const listPath = (ticketId: string) => `/api/v2/tickets.json?external_id=${ticketId}`;

  it('finds an uncertain create that landed and changed since, instead of creating it again', async () => {
    const zendeskId = await createUnanswered(makeTicket({ id: 'tkt_uncertain' }), 'msg_uncertain');
    const before = fake.tickets.size;
    const sent = fake.requests.length;

    const changed = makeTicket({ id: 'tkt_uncertain', priority: 'urgent' });
    const outcome = await deliver(delivery(changed, { messageId: 'msg_uncertain', uncertain: true }));
    expect(outcome).toEqual({ ok: true, status: 200, externalId: String(zendeskId), externalStatus: 'new' });
    expect(fake.tickets.size).toBe(before);
    expect(fake.requests.slice(sent).map((r) => `${r.method} ${r.path}`)).toEqual([`GET ${listPath('tkt_uncertain')}`]);
  });

  it('resolves an IdempotentRequestError (same key, changed body) to the ticket that landed', async () => {
    const zendeskId = await createUnanswered(makeTicket({ id: 'tkt_key' }), 'msg_same_key');
    const before = fake.tickets.size;
    const sent = fake.requests.length;

    const outcome = await deliver(delivery(makeTicket({ id: 'tkt_key', priority: 'urgent' }), { messageId: 'msg_same_key' }));
    expect(outcome).toEqual({ ok: true, status: 200, externalId: String(zendeskId), externalStatus: 'new' });
    expect(fake.tickets.size).toBe(before);
    const [post, get] = fake.requests.slice(sent);
    expect(post).toMatchObject({ method: 'POST', path: '/api/v2/tickets.json', status: 400 });
    expect(post!.headers['idempotency-key']).toBe('msg_same_key');
    expect(get).toMatchObject({ method: 'GET', path: listPath('tkt_key'), status: 200 });
    expect(fake.requests.length).toBe(sent + 2);
  });

  it('creates an uncertain create that never landed, after looking for it', async () => {
    const before = fake.tickets.size;
    const sent = fake.requests.length;
    const outcome = await deliver(delivery(makeTicket({ id: 'tkt_never_landed' }), { messageId: 'msg_never_landed', uncertain: true }));
    expect(outcome).toMatchObject({ ok: true, status: 201, externalStatus: 'new' });
    expect(fake.tickets.size).toBe(before + 1);
    expect(fake.tickets.get(Number(outcome.ok && outcome.externalId))).toMatchObject({ external_id: 'tkt_never_landed' });
    const [get, post] = fake.requests.slice(sent);
    expect(get).toMatchObject({ method: 'GET', path: listPath('tkt_never_landed'), status: 200 });
    expect(get!.body).toBe('');
    expect(post).toMatchObject({ method: 'POST', path: '/api/v2/tickets.json', status: 201, idempotencyLookup: 'miss' });
  });

  it('creates under a derived key when the IdempotentRequestError ticket is gone from Zendesk', async () => {
    const zendeskId = await createUnanswered(makeTicket({ id: 'tkt_deleted' }), 'msg_deleted');
    fake.tickets.delete(zendeskId);
    const sent = fake.requests.length;

    const outcome = await deliver(delivery(makeTicket({ id: 'tkt_deleted', priority: 'urgent' }), { messageId: 'msg_deleted' }));
    expect(outcome).toMatchObject({ ok: true, status: 201 });
    expect(outcome.ok && outcome.externalId).not.toBe(String(zendeskId));
    const requests = fake.requests.slice(sent);
    expect(requests.map((r) => `${r.method} ${r.status}`)).toEqual(['POST 400', 'GET 200', 'POST 201']);
    expect(requests[2]!.headers['idempotency-key']).toBe('msg_deleted:retry');

    // A later retry of the same row finds that ticket rather than making a third.
    const again = await deliver(delivery(makeTicket({ id: 'tkt_deleted', priority: 'low' }), { messageId: 'msg_deleted', uncertain: true }));
    expect(again).toMatchObject({ ok: true, externalId: outcome.ok && outcome.externalId });
    expect([...fake.tickets.values()].filter((t) => t.external_id === 'tkt_deleted')).toHaveLength(1);
  });

  it('passes on a failed lookup as the outcome, so the create is retried later', async () => {
    const sent = fake.requests.length;
    fake.setDown(true, 5);
    const outcome = await deliver(delivery(makeTicket({ id: 'tkt_lookup_down' }), { uncertain: true }));
    expect(outcome).toMatchObject({ ok: false, status: 503, retryAfterMs: 5000, gone: false });
    expect(fake.requests.slice(sent).map((r) => r.method)).toEqual(['GET']);
  });

  it('updates status and priority in place, mapping on_hold to hold and spam to solved with a tag', async () => {
    const id = await createTicket();
    const put = (ticket: TicketDocument, c: TicketChange) => deliver(delivery(ticket, { link: id, change: c }));

    expect(await put(makeTicket({ status: 'on_hold' }), change('status', { status: { from: 'new', to: 'on_hold' } })))
      .toEqual({ ok: true, status: 200, externalId: id, externalStatus: 'hold' });
    expect(fake.requests.at(-1)).toMatchObject({ method: 'PUT', path: `/api/v2/tickets/${id}.json` });
    expect(fake.requests.at(-1)!.headers).not.toHaveProperty('idempotency-key');

    await put(makeTicket({ status: 'on_hold', priority: 'urgent' }), change('priority', { priority: { from: 'high', to: 'urgent' } }));
    expect(fake.tickets.get(Number(id))).toMatchObject({ status: 'hold', priority: 'urgent' });

    const spam = await put(makeTicket({ status: 'spam' }), change('status', { status: { from: 'on_hold', to: 'spam' } }));
    expect(spam).toMatchObject({ ok: true, externalStatus: 'solved' });
    expect(fake.requests.at(-2)).toMatchObject({ method: 'PUT', path: `/api/v2/tickets/${id}/tags`, body: '{"tags":["earshot_spam"]}' });
    expect(fake.tickets.get(Number(id))!.tags).toEqual(['earshot', 'source_app-store', 'sentiment_negative', 'lang_en', 'earshot_spam']);
  });

  it('adds internal comments for a joined copy, an SLA breach and an answer on the source (which solves)', async () => {
    const id = await createTicket();
    const copy = makeMention({
      id: 'mnt_copy', source: 'google-play', url: 'https://play.google.com/store/apps/details?id=com.acme&reviewId=gp:AOqp',
      author: { name: 'Sam <K>', handle: null, id: null, url: 'javascript:alert(1)', followers: null }, text: 'Same here: crash on login since 5.2.0',
    });
    await deliver(delivery(makeTicket(), { link: id, change: change('copy_joined', { mention: copy }) }));
    await deliver(delivery(makeTicket({ breached: true, breaches: ['first_response'] }), { link: id, change: change('sla_breached', {}, 'Nobody answered in 2 h') }));
    const answered = await deliver(delivery(makeTicket({ status: 'solved' }), {
      link: id, change: change('answered_on_source', { reply: { text: 'Sorry Jamie, 5.2.1 fixes the crash.', at: '2026-11-22T09:50:00.000Z' } }),
    }));
    expect(answered).toMatchObject({ ok: true, externalStatus: 'solved' });

    const [, copyNote, slaNote, answer] = fake.tickets.get(Number(id))!.comments;
    expect(copyNote).toMatchObject({ public: false });
    for (const fact of ['google-play', 'https://play.google.com/store/apps/details?id=com.acme&amp;reviewId=gp:AOqp', 'Sam &lt;K&gt;', 'crash on login since 5.2.0']) {
      expect(copyNote!.html_body).toContain(fact);
    }
    expect(copyNote!.html_body).not.toContain('javascript:');
    expect(slaNote).toMatchObject({ public: false });
    expect(slaNote!.html_body).toContain('SLA breached');
    expect(slaNote!.html_body).toContain('Nobody answered in 2 h');
    expect(answer).toMatchObject({ public: false });
    expect(answer!.html_body).toContain('5.2.1 fixes the crash.');
  });

  it('retries on 429 after Retry-After and on 503, and gives up on 401 and 404 without showing the token', async () => {
    fake.rateLimitNext(1, 7);
    expect(await deliver(delivery(makeTicket()))).toMatchObject({ ok: false, status: 429, retryAfterMs: 7000, gone: false });

    fake.setDown(true);
    expect(await deliver(delivery(makeTicket()))).toMatchObject({ ok: false, status: 503, retryAfterMs: null, gone: false });
    fake.setDown(true, 30);
    expect(await deliver(delivery(makeTicket()))).toMatchObject({ ok: false, status: 503, retryAfterMs: 30_000, gone: false });
    fake.setDown(false);

    const wrong = { ...config, apiToken: `${TOKEN}-revoked` };
    const denied = await deliver(delivery(makeTicket()), wrong);
    expect(denied).toMatchObject({ ok: false, status: 401, gone: true });
    const error = !denied.ok ? denied.error : '';
    expect(error).toContain("Couldn't authenticate you");
    expect(error).not.toContain(TOKEN);
    expect(error).not.toContain(Buffer.from(`${EMAIL}/token:${wrong.apiToken}`).toString('base64'));

    expect(await deliver(delivery(makeTicket(), { link: '999999', change: change('status') }))).toMatchObject({ ok: false, status: 404, gone: true });
    const refused = await deliver(delivery(makeTicket()), { ...config, url: 'http://127.0.0.1:9' });
    expect(refused).toMatchObject({ ok: false, status: null, gone: false });
  });
});

describe('zendesk webhooks', () => {
  const config = zendeskConfigSchema.parse({
    id: 'zendesk', type: 'zendesk', url: 'https://acme.zendesk.com', email: EMAIL, apiToken: TOKEN, webhookSecret: WEBHOOK_SECRET,
  });
  const ts = '2026-11-22T09:59:30Z';
  const body = '{"ticket_id":"35436","external_id":"tkt_01JD8Z5K7E","status":"Solved"}';
  const signed = (b = body, t = ts, secret = WEBHOOK_SECRET) => ({
    'x-zendesk-webhook-signature': signZendeskWebhook(secret, t, b), 'x-zendesk-webhook-signature-timestamp': t,
  });
  const receive = (headers: Record<string, string>, rawBody = body, c: ZendeskConfig = config, now = NOW) =>
    zendeskConnector.receive!(c, { headers, rawBody }, { now });

  it('reads the documented body that the fake sends, signed as Zendesk signs', async () => {
    const fake = await startZendeskFake({ email: EMAIL, token: TOKEN, webhookSecret: WEBHOOK_SECRET, now: () => NOW });
    const received: InboundResult[] = [];
    const receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const result = receive(req.headers as Record<string, string>, Buffer.concat(chunks).toString('utf8'));
        received.push(result);
        res.statusCode = result.ok ? 200 : result.status;
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const zd = { ...config, url: fake.url };
      const created = await zendeskConnector.deliverTicket!(zd, delivery(makeTicket()), CTX);
      const id = created.ok ? created.externalId! : '';
      await zendeskConnector.deliverTicket!(zd, delivery(makeTicket({ status: 'on_hold' }), { link: id, change: change('status') }), CTX);
      const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`;
      expect(await fake.sendWebhook(receiverUrl, Number(id))).toBe(200);
      expect(received.at(-1)).toEqual({
        ok: true, changes: [{ externalId: id, ticketId: 'tkt_01JD8Z5K7E', externalStatus: 'On-hold', status: 'on_hold' } satisfies InboundChange],
      });
      expect(await fake.sendWebhook(receiverUrl, Number(id), 'another secret')).toBe(401);
    } finally {
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
      await fake.close();
    }
  });

  it('accepts a correctly signed body and keeps an empty external_id as null', () => {
    expect(receive(signed())).toEqual({
      ok: true, changes: [{ externalId: '35436', ticketId: 'tkt_01JD8Z5K7E', externalStatus: 'Solved', status: 'solved' }],
    });
    const noExternal = '{"ticket_id":"35437","external_id":"","status":"Open"}';
    expect(receive(signed(noExternal), noExternal)).toMatchObject({ ok: true, changes: [{ externalId: '35437', ticketId: null, status: 'open' }] });
  });

  it('refuses a wrong signature, missing headers, an old timestamp and a Zendesk without a secret (401)', () => {
    expect(receive(signed(body, ts, 'not the secret'))).toMatchObject({ ok: false, status: 401 });
    expect(receive(signed(), body.replace('Solved', 'Closed'))).toMatchObject({ ok: false, status: 401 });
    expect(receive({ 'x-zendesk-webhook-signature-timestamp': ts })).toMatchObject({ ok: false, status: 401 });
    const old = '2026-11-22T09:54:59Z';
    expect(receive(signed(body, old), body)).toMatchObject({ ok: false, status: 401, error: expect.stringContaining('5 minutes') });
    expect(receive(signed(), body, { ...config, webhookSecret: undefined })).toMatchObject({ ok: false, status: 401 });
  });

  it('answers 400 to a signed body that is not the documented template', () => {
    for (const bad of ['not json', '{"id":35436,"status":"Solved"}', '{"ticket_id":"abc","external_id":"","status":"Solved"}']) {
      expect(receive(signed(bad), bad)).toMatchObject({ ok: false, status: 400 });
    }
  });

  it('documents a template that is valid JSON with the three placeholders', () => {
    expect(Object.keys(JSON.parse(ZENDESK_WEBHOOK_BODY))).toEqual(['ticket_id', 'external_id', 'status']);
  });
});

describe('zendesk status mapping and config', () => {
  it('maps our statuses to Zendesk and back', () => {
    expect(['new', 'open', 'pending', 'on_hold', 'solved', 'closed', 'spam', 'ignored'].map((s) => toZendeskStatus(s as never)))
      .toEqual(['new', 'open', 'pending', 'hold', 'solved', 'closed', 'solved', 'solved']);
    const back = ['New', 'open', 'Pending', 'hold', 'On-hold', 'on_hold', 'Solved', 'CLOSED', 'Escalated'].map(fromZendeskStatus);
    expect(back).toEqual(['new', 'open', 'pending', 'on_hold', 'on_hold', 'on_hold', 'solved', 'closed', null]);
  });

  it('fills the defaults, paces to 100 requests a minute and refuses unknown keys', () => {
    const c = zendeskConfigSchema.parse({ id: 'zd', type: 'zendesk', url: 'https://acme.zendesk.com', email: EMAIL, apiToken: TOKEN });
    expect(c.requester).toEqual({ name: 'Social listening' });
    expect(c.requestsPerMinute).toBe(100);
    expect(zendeskConnector.minIntervalMs!(c)).toBe(600);
    expect(zendeskConfigSchema.safeParse({ ...c, subdomain: 'acme' }).success).toBe(false);
  });
});
