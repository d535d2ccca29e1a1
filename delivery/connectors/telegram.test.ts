import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DigestEvent, IncidentDocument, IncidentEvent } from '../../documents/incident.ts';
import type { MentionDocument } from '../../documents/mention.ts';
import type { TicketDocument, TicketEvent } from '../../documents/ticket.ts';
import { isSecretSchema } from '../../lib/secret.ts';
import { checkTelegramHtml, startTelegramFake, type FakeInlineKeyboard, type TelegramFake } from '../../tests/helpers/telegram-fake.ts';
import { renderTelegramText, TelegramApiError, telegramConfigSchema, telegramConnector, type TelegramConfig } from './telegram.ts';
import { decodeAction, type ActionResult, type ChannelMessage, type DeliveryOutcome, type SendContext } from './types.ts';

const TOKEN = '7012345678:AAH3kq_Xz-9vLw2mQpR8sT1uV4yZ0aBcDeF';
const NOW = new Date('2026-11-22T10:00:00Z');
const CTX: SendContext = { now: NOW, timeoutMs: 2000 };
const CHAT = '-1001987654321';
const WEBHOOK_SECRET = 'wh_S3cr3t-value_for-earshot';

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
  text: 'Заказали доставку к 19:00, привезли в 22:40 <холодное>.\nКурьер нахамил.\n\nНа звонки не отвечают & «поддержка» молчит. <script>alert(1)</script> 1 < 2',
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
  details: {},
};

const ticket: TicketDocument = {
  id: '1042', seq: '5001', version: 1, status: 'new', status_reason: null, priority: 'high', team: 'care-ru', assignee: null,
  title: '[1★][2gis] Анна К.: Заказали доставку…', brand: 'Ромашка & Co', routed_by: null,
  created_at: '2026-11-22T09:00:05.000Z', updated_at: '2026-11-22T09:00:05.000Z', first_response_at: null, solved_at: null,
  first_response_due_at: '2026-11-22T13:00:05.000Z', resolution_due_at: '2026-11-24T09:00:05.000Z', sla_paused: false,
  breached: false, breaches: [], mention, cluster: null, external: [], deliveries: [],
};

function ticketAlert(over: { mention?: Partial<MentionDocument>; summary?: string } = {}): Record<string, unknown> {
  const event: TicketEvent = {
    type: 'ticket.created',
    timestamp: NOW.toISOString(),
    data: {
      ticket: { ...ticket, mention: { ...mention, ...over.mention } },
      change: null,
      alert: { kind: 'ticket_created', summary: over.summary ?? 'New ticket for Ромашка & Co, team care-ru: <b>Заказали</b>' },
    },
  };
  return event as unknown as Record<string, unknown>;
}

const targetAlert = {
  type: 'target.failing',
  timestamp: NOW.toISOString(),
  data: {
    target: {
      id: 'yandex-maps-1', source: 'yandex_maps', brand: 'Ромашка', state: 'blocked', last_success_at: null,
      last_error: 'HTTP 403 <captcha> & co', consecutive_errors: 4,
    },
    alert: { kind: 'target_failing', summary: 'yandex_maps target "yandex-maps-1" (Ромашка) is blocked: 4 failed crawl(s)' },
  },
};

const destinationAlert = {
  type: 'destination.failing',
  timestamp: NOW.toISOString(),
  data: {
    destination: { kind: 'helpdesk', id: 'usedesk-main' },
    failing_since: '2026-11-22T09:30:00.000Z',
    consecutive_failures: 5,
    last_status: 503,
    last_error: 'usedesk create/ticket: HTTP 503: <html>',
    alert: { kind: 'destination_failing', summary: 'helpdesk "usedesk-main" is failing: 5 failed delivery attempts in a row' },
  },
};

function configFor(fake: TelegramFake, over: Partial<TelegramConfig> = {}): TelegramConfig {
  return telegramConfigSchema.parse({ id: 'tg-care', type: 'telegram', botToken: TOKEN, chatId: CHAT, apiUrl: fake.url, ...over });
}

function send(config: TelegramConfig, body: Record<string, unknown>, ctx = CTX): Promise<DeliveryOutcome> {
  return telegramConnector.sendMessage!(config, { messageId: 'msg_1', body, subject: null, card: null, openUrl: null, actions: false }, ctx);
}

function expectNoToken(outcome: DeliveryOutcome): void {
  expect(JSON.stringify(outcome)).not.toContain(TOKEN);
  expect(JSON.stringify(outcome)).not.toContain(TOKEN.split(':')[1]);
}

describe('telegramConfigSchema', () => {
  const base = { id: 'tg-care', type: 'telegram', botToken: TOKEN, chatId: CHAT };

  it('takes a BotFather token and user, group and channel chat ids, with the default API url', () => {
    const parsed = telegramConfigSchema.parse(base);
    expect(parsed.apiUrl).toBe('https://api.telegram.org');
    for (const chatId of ['-1001987654321', '123456789', '@earshot_alerts', 123456789, -1001987654321]) {
      expect(telegramConfigSchema.safeParse({ ...base, chatId }).success, String(chatId)).toBe(true);
    }
  });

  it('rejects a malformed token, bad chat ids and unknown fields, and never echoes the token', () => {
    for (const botToken of ['', 'AAH3kq', '7012345678', 'abc:def', '7012345678:has space']) {
      const result = telegramConfigSchema.safeParse({ ...base, botToken });
      expect(result.success, botToken).toBe(false);
      if (botToken.length > 3) expect(JSON.stringify(result.error)).not.toContain(botToken);
    }
    for (const chatId of ['@abc', 'channel', '-12x', 1.5, '']) {
      expect(telegramConfigSchema.safeParse({ ...base, chatId }).success, String(chatId)).toBe(false);
    }
    expect(telegramConfigSchema.safeParse({ ...base, extra: 1 }).success).toBe(false);
    expect(telegramConfigSchema.safeParse({ ...base, apiUrl: 'ftp://x' }).success).toBe(false);
  });

  it('paces groups and channels at 20 a minute and private chats at 1 a second', () => {
    expect(telegramConnector.minIntervalMs!(telegramConfigSchema.parse(base))).toBe(3000);
    expect(telegramConnector.minIntervalMs!(telegramConfigSchema.parse({ ...base, chatId: -1001987654321 }))).toBe(3000);
    expect(telegramConnector.minIntervalMs!(telegramConfigSchema.parse({ ...base, chatId: 123456789 }))).toBe(1000);
    expect(telegramConnector.minIntervalMs!(telegramConfigSchema.parse({ ...base, chatId: '123456789' }))).toBe(1000);
    // A @name is a channel or a public supergroup (a bot cannot write to a person by username): a group's pace.
    expect(telegramConnector.minIntervalMs!(telegramConfigSchema.parse({ ...base, chatId: '@earshot_alerts' }))).toBe(3000);
  });

  it('reads button presses by long polling unless told otherwise; a webhook needs its secret', () => {
    expect(telegramConfigSchema.parse(base)).toMatchObject({ updates: 'polling' });
    expect(telegramConfigSchema.parse(base).webhookSecret).toBeUndefined();
    expect(telegramConfigSchema.parse({ ...base, updates: 'off' }).updates).toBe('off');
    expect(telegramConfigSchema.parse({ ...base, updates: 'webhook', webhookSecret: WEBHOOK_SECRET })).toMatchObject({ updates: 'webhook', webhookSecret: WEBHOOK_SECRET });

    const missing = telegramConfigSchema.safeParse({ ...base, updates: 'webhook' });
    expect(missing.success).toBe(false);
    expect(missing.error!.issues).toEqual([expect.objectContaining({ path: ['webhookSecret'], message: expect.stringContaining('required when updates is "webhook"') })]);
    for (const webhookSecret of ['', 'has space', 'a'.repeat(257), 'semi;colon', 'ключ']) {
      const result = telegramConfigSchema.safeParse({ ...base, updates: 'webhook', webhookSecret });
      expect(result.success, webhookSecret).toBe(false);
      if (webhookSecret.length > 3) expect(JSON.stringify(result.error)).not.toContain(webhookSecret);
    }
    expect(telegramConfigSchema.safeParse({ ...base, updates: 'webhook', webhookSecret: 'a'.repeat(256) }).success).toBe(true);
    expect(telegramConfigSchema.safeParse({ ...base, updates: 'sometimes' }).success).toBe(false);
    // Redaction walks through the optional to the secret mark.
    expect(isSecretSchema(telegramConfigSchema.shape.webhookSecret.unwrap())).toBe(true);
    // The config's channel entry extends this schema: the rule must survive `.extend`.
    const entry = telegramConfigSchema.extend({ events: z.array(z.string()).default([]) });
    expect(entry.safeParse({ ...base, updates: 'webhook' }).success).toBe(false);
  });
});

describe('renderTelegramText', () => {
  it('renders a ticket alert as valid Telegram HTML with every outside value escaped', () => {
    const text = renderTelegramText(ticketAlert());
    expect(checkTelegramHtml(text)).toBeNull();
    expect(text.split('\n')[0]).toBe('<b>New ticket for Ромашка &amp; Co, team care-ru: &lt;b&gt;Заказали&lt;/b&gt;</b>');
    expect(text).toContain('Brand: Ромашка &amp; Co · Team: care-ru');
    expect(text).toContain('Priority: high · Status: new');
    expect(text).toContain('Source: 2gis · Author: Анна К. (@anna_k)');
    expect(text).toContain('Rating: ★☆☆☆☆ (1/5)');
    expect(text).toContain('&lt;script&gt;alert(1)&lt;/script&gt; 1 &lt; 2');
    expect(text).toContain('22:40 &lt;холодное&gt;.\nКурьер нахамил.\n\nНа звонки не отвечают &amp; «поддержка»');
    expect(text).not.toContain('<script>');
    expect(text).toContain('<a href="https://2gis.ru/moscow/firm/70000001012345678/tab/reviews?review=5f1c9e0a&amp;x=1">Open on 2gis</a>');
  });

  it('keeps a mention excerpt to about 600 characters and drops a non-http link', () => {
    const text = renderTelegramText(ticketAlert({ mention: { text: 'слово '.repeat(500), url: 'javascript:alert(1)' } }));
    expect(checkTelegramHtml(text)).toBeNull();
    expect(text).toMatch(/слово …|слово…/);
    expect(text.length).toBeLessThan(1000);
    expect(text).not.toContain('<a ');
    expect(text).toContain('Open on 2gis');
  });

  it('cuts a very long message to 4096 characters without breaking a tag or an entity', () => {
    for (const filler of ['&', '<', 'a', '"😀']) {
      const summary = filler.repeat(Math.ceil(12_000 / filler.length));
      const body = ticketAlert({ summary, mention: { text: `${filler.repeat(5000)}\n\n${'<b>'.repeat(2000)}`, title: filler.repeat(3000) } });
      const text = renderTelegramText(body);
      expect(text.length, filler).toBeLessThanOrEqual(4096);
      expect(text.length, filler).toBeGreaterThan(2000);
      expect(checkTelegramHtml(text), filler).toBeNull();
      expect(text.startsWith('<b>'), filler).toBe(true);
      expect(text).toContain('Open on 2gis</a>');
    }
    const target = { ...targetAlert, data: { ...targetAlert.data, target: { ...targetAlert.data.target, last_error: '<&>'.repeat(5000) } } };
    const text = renderTelegramText(target);
    expect(text.length).toBeLessThanOrEqual(4096);
    expect(checkTelegramHtml(text)).toBeNull();
  });

  it('renders a target alert and a destination alert', () => {
    const target = renderTelegramText(targetAlert);
    expect(checkTelegramHtml(target)).toBeNull();
    expect(target).toBe(
      [
        '<b>yandex_maps target &quot;yandex-maps-1&quot; (Ромашка) is blocked: 4 failed crawl(s)</b>',
        'Target: yandex-maps-1 · Source: yandex_maps · Brand: Ромашка',
        'State: blocked · Failures in a row: 4',
        'Last success: never',
        'Last error: HTTP 403 &lt;captcha&gt; &amp; co',
      ].join('\n'),
    );
    const destination = renderTelegramText(destinationAlert);
    expect(checkTelegramHtml(destination)).toBeNull();
    expect(destination).toBe(
      [
        '<b>helpdesk &quot;usedesk-main&quot; is failing: 5 failed delivery attempts in a row</b>',
        'Destination (helpdesk): usedesk-main',
        'Failing since: 2026-11-22T09:30:00.000Z',
        'Failures in a row: 5',
        'Last status: 503',
        'Last error: usedesk create/ticket: HTTP 503: &lt;html&gt;',
      ].join('\n'),
    );
    expect(renderTelegramText({ type: 'something.new', data: {} })).toBe('<b>something.new</b>');
  });
});

describe('telegramConnector.sendMessage', () => {
  let fake: TelegramFake;
  let clock = NOW.getTime();

  beforeAll(async () => {
    fake = await startTelegramFake({
      token: TOKEN,
      chats: [CHAT, '@earshot_alerts', '123456789'],
      blockedChats: ['123456789'],
      limitPerChatPerSecond: true,
      now: () => clock,
    });
  });
  afterAll(() => fake.close());
  beforeEach(() => {
    clock += 60_000;
    fake.setDown(false);
    fake.messages.length = 0;
    fake.requests.length = 0;
  });

  it('sends the rendered HTML without link previews, pacing first, and returns the message id', async () => {
    const paced: number[] = [];
    const outcome = await send(configFor(fake), ticketAlert(), { ...CTX, pace: async () => void paced.push(fake.requests.length) });
    expect(outcome).toEqual({ ok: true, status: 200, externalId: String(fake.messages[0]!.message_id) });
    expect(paced).toEqual([0]);
    expect(fake.requests.map((r) => r.path)).toEqual(['/bot<token>/sendMessage']);
    const sent = fake.messages[0]!;
    expect(sent.chat_id).toBe(CHAT);
    expect(sent.parse_mode).toBe('HTML');
    expect(sent.text).toBe(renderTelegramText(ticketAlert()));
    expect(sent.body.link_preview_options).toEqual({ is_disabled: true });
  });

  it('sends a very long alert that Telegram accepts', async () => {
    const outcome = await send(configFor(fake), ticketAlert({ summary: '<&>'.repeat(6000) }));
    expect(outcome.ok).toBe(true);
    expect(fake.messages[0]!.text.length).toBeLessThanOrEqual(4096);
  });

  it('on flood control (429) retries after parameters.retry_after', async () => {
    const config = configFor(fake, { chatId: '@earshot_alerts' });
    expect((await send(config, targetAlert)).ok).toBe(true);
    clock += 200;
    const outcome = await send(config, destinationAlert);
    expect(outcome).toMatchObject({ ok: false, status: 429, retryAfterMs: 1000, gone: false });
    expect(outcome.ok === false && outcome.error).toContain('Too Many Requests: retry after 1');
    expectNoToken(outcome);
    clock += 1000;
    expect((await send(config, destinationAlert)).ok).toBe(true);
    expect(fake.messages).toHaveLength(2);
  });

  it('retries when Telegram is down (502) or unreachable', async () => {
    fake.setDown(true);
    const down = await send(configFor(fake), targetAlert);
    expect(down).toMatchObject({ ok: false, status: 502, retryAfterMs: null, gone: false });
    expectNoToken(down);
    const unreachable = await send(configFor(fake, { apiUrl: 'http://127.0.0.1:1' }), targetAlert);
    expect(unreachable).toMatchObject({ ok: false, status: null, gone: false });
    expectNoToken(unreachable);
  });

  it('gives up at once on a bad token (401), a blocked bot (403) and an unknown chat (400)', async () => {
    const wrongToken = await send(configFor(fake, { botToken: '7012345678:WRONGtokenWRONGtoken' }), targetAlert);
    expect(wrongToken).toMatchObject({ ok: false, status: 401, gone: true });
    expect(JSON.stringify(wrongToken)).not.toContain('WRONGtokenWRONGtoken');
    const blocked = await send(configFor(fake, { chatId: 123456789 }), targetAlert);
    expect(blocked).toMatchObject({ ok: false, status: 403, gone: true });
    expect(blocked.ok === false && blocked.error).toContain('bot was blocked');
    const unknown = await send(configFor(fake, { chatId: '-100111' }), targetAlert);
    expect(unknown).toMatchObject({ ok: false, status: 400, gone: true });
    expect(unknown.ok === false && unknown.error).toContain('chat not found');
    for (const outcome of [wrongToken, blocked, unknown]) expectNoToken(outcome);
    expect(fake.messages).toHaveLength(0);
  });

  it('honours a Retry-After header when the body has no retry_after, and the fake rejects bad HTML', async () => {
    expect(checkTelegramHtml('<b>a</b> &amp; <a href="https://x">y</a> &#39;')).toBeNull();
    expect(checkTelegramHtml('<p>a</p>')).not.toBeNull();
    expect(checkTelegramHtml('<b>a')).not.toBeNull();
    expect(checkTelegramHtml('a & b')).not.toBeNull();
    expect(checkTelegramHtml('&nbsp;')).not.toBeNull();
    const { createServer } = await import('node:http');
    const server = createServer((_req, res) => {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '7' });
      res.end(JSON.stringify({ ok: false, error_code: 429, description: 'Too Many Requests' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const outcome = await send(configFor(fake, { apiUrl: `http://127.0.0.1:${port}` }), targetAlert);
      expect(outcome).toMatchObject({ ok: false, status: 429, retryAfterMs: 7000, gone: false });
    } finally {
      server.close();
    }
  });
});

// Cards, buttons and presses.

const incident: IncidentDocument = {
  id: 'inc_77', brand: 'romashka', brand_name: 'Ромашка & Co', scope: 'all', severity: 'warning', status: 'open',
  opened_at: '2026-11-22T09:40:00.000Z', escalated_at: null, escalation_reason: null,
  acknowledged_at: null, acknowledged_by: null, resolved_at: null, resolved_by: null, resolution_note: null,
  why: {
    summary: 'negative 6h: 14 vs expected 1.2 (p=3e-7), 9 authors', rules: ['nb_tail', 'volume_z'], regime: 'low',
    window_minutes: 360, observed: 14, expected: 1.2, lift: 11.67, p_value: 3e-7, z: null, authors: 9, reach: 12345,
  },
  peak: { observed: 14, expected: 1.2 },
  top_terms: ['доставка', '<холодное>', 'курьер'],
  top_sources: [{ source: 'vk', count: 9 }, { source: '2gis', count: 5 }],
  languages: [{ language: 'ru', count: 13 }, { language: 'kk', count: 1 }],
  top_posts: [
    { mention_id: '901', url: 'https://vk.com/wall-1_2?x=1&y=2', source: 'vk', author: 'Анна <К>', reach: 8000, published_at: '2026-11-22T09:10:00.000Z', excerpt: 'Курьер опоздал на 3 часа & <b>нахамил</b>' },
    { mention_id: '902', url: 'javascript:alert(1)', source: '2gis', author: null, reach: null, published_at: null, excerpt: 'Холодная пицца' },
    { mention_id: '903', url: 'https://t.me/city/55', source: 'telegram', author: 'city', reach: 3000, published_at: null, excerpt: 'Опять Ромашка' },
    { mention_id: '904', url: 'https://t.me/city/56', source: 'telegram', author: 'city', reach: 10, published_at: null, excerpt: 'fourth post' },
  ],
  tickets: 3,
  url: 'https://earshot.example.com/incidents/inc_77',
};

function incidentEvent(type: IncidentEvent['type'], over: Partial<IncidentDocument> = {}, summary = 'Ромашка & Co: negative mentions 12× the usual'): Record<string, unknown> {
  const event: IncidentEvent = {
    type, timestamp: NOW.toISOString(),
    data: { incident: { ...incident, ...over }, alert: { kind: type.replace('.', '_'), summary } },
  };
  return event as unknown as Record<string, unknown>;
}

const digest: DigestEvent = {
  type: 'digest',
  timestamp: NOW.toISOString(),
  data: {
    digest: {
      channel: 'tg-care', period_start: '2026-11-21T06:00:00.000Z', period_end: '2026-11-22T06:00:00.000Z', time_zone: 'Europe/Moscow',
      brands: [
        { brand: 'romashka', name: 'Ромашка & Co', mentions: 120, negative: 31, tickets_opened: 12, tickets_solved: 10, tickets_open: 5, sla_breached: 2, incidents: 1 },
        { brand: 'lyutik', name: 'Лютик <beta>', mentions: 4, negative: 0, tickets_opened: 0, tickets_solved: 1, tickets_open: 0, sla_breached: 0, incidents: 0 },
      ],
      incidents: [{ id: 'inc_77', brand: 'romashka', severity: 'critical', status: 'resolved', summary: 'negative 6h: 14 vs 1.2 <spike>' }],
      held: 4,
    },
    alert: { kind: 'digest', summary: 'Daily digest for tg-care' },
  },
};

function ticketEvent(type: TicketEvent['type'], over: Partial<TicketDocument> = {}, summary?: string): Record<string, unknown> {
  const event: TicketEvent = {
    type, timestamp: NOW.toISOString(),
    data: { ticket: { ...ticket, ...over }, change: null, ...(summary ? { alert: { kind: type.replace('.', '_'), summary } } : {}) },
  };
  return event as unknown as Record<string, unknown>;
}

function card(subject: string | null, body: Record<string, unknown>, over: Partial<ChannelMessage> = {}): ChannelMessage {
  return { messageId: `msg_${Math.random().toString(36).slice(2)}`, body, subject, card: null, openUrl: null, actions: true, ...over };
}

function buttonsOf(markup: FakeInlineKeyboard | null): string[] {
  return (markup?.inline_keyboard ?? []).flat().map((b) => b.text);
}

describe('renderTelegramText for incidents and digests', () => {
  it('renders an incident: severity, why in numbers, terms, sources, languages and three top posts as links', () => {
    const text = renderTelegramText(incidentEvent('incident.opened'));
    expect(checkTelegramHtml(text)).toBeNull();
    const lines = text.split('\n');
    expect(lines[0]).toBe('<b>🟠 Warning · Ромашка &amp; Co: negative mentions 12× the usual</b>');
    expect(text).toContain('Status: open · Brand: Ромашка &amp; Co');
    expect(text).toContain('Now: 14 negative in 6 h vs 1.2 expected (×11.7) · p = 3.0e-7 · 9 authors · reach 12,345');
    expect(text).toContain('Rules: nb_tail, volume_z');
    expect(text).toContain('Opened: 2026-11-22 09:40 UTC');
    expect(text).toContain('Top terms: доставка, &lt;холодное&gt;, курьер');
    expect(text).toContain('Sources: vk 9 · 2gis 5');
    expect(text).toContain('Languages: ru 13 · kk 1');
    expect(text).toContain('Tickets linked: 3');
    expect(text).toContain('1. <a href="https://vk.com/wall-1_2?x=1&amp;y=2">vk · Анна &lt;К&gt;</a> (reach 8,000): Курьер опоздал на 3 часа &amp; &lt;b&gt;нахамил&lt;/b&gt;');
    // A javascript: link is never clickable; a fourth post is left out.
    expect(text).toContain('2. 2gis: Холодная пицца');
    expect(text).toContain('3. <a href="https://t.me/city/55">');
    expect(text).not.toContain('fourth post');
    expect(text).not.toContain('Acknowledged');
  });

  it('says who acknowledged and resolved it and when, with the z-score in the high-volume regime', () => {
    const text = renderTelegramText(incidentEvent('incident.resolved', {
      severity: 'critical', status: 'resolved', escalated_at: '2026-11-22T10:10:00.000Z', escalation_reason: 'unacknowledged',
      acknowledged_at: '2026-11-22T10:15:00.000Z', acknowledged_by: 'telegram:@anna_k',
      resolved_at: '2026-11-22T13:00:00.000Z', resolved_by: 'detector', resolution_note: 'calm <again>',
      scope: 'source:vk', why: { ...incident.why, regime: 'high', p_value: null, z: 6.42, window_minutes: 90 },
    }));
    expect(checkTelegramHtml(text)).toBeNull();
    expect(text.split('\n')[0]).toBe('<b>✅ Resolved · 🔴 Critical · Ромашка &amp; Co: negative mentions 12× the usual</b>');
    expect(text).toContain('Status: resolved · Brand: Ромашка &amp; Co · Scope: vk only');
    expect(text).toContain('in 90 min vs 1.2 expected (×11.7) · z = 6.4 ·');
    expect(text).toContain('Escalated: 2026-11-22 10:10 UTC (nobody acknowledged it)');
    expect(text).toContain('Acknowledged by telegram:@anna_k at 2026-11-22 10:15 UTC');
    expect(text).toContain('Resolved by detector at 2026-11-22 13:00 UTC: calm &lt;again&gt;');
  });

  it('renders a digest per brand, its incidents and what was held, in the channel time zone', () => {
    const text = renderTelegramText(digest as unknown as Record<string, unknown>);
    expect(checkTelegramHtml(text)).toBeNull();
    expect(text).toBe([
      '<b>Daily digest for tg-care</b>',
      'Period: 21 Nov 2026, 09:00 – 22 Nov 2026, 09:00 (Europe/Moscow)',
      '',
      '<b>Ромашка &amp; Co</b>: 120 mentions, 31 negative',
      'Tickets: 12 opened · 10 solved · 5 open · ⚠ 2 SLA missed · Incidents: 1',
      '',
      '<b>Лютик &lt;beta&gt;</b>: 4 mentions, 0 negative',
      'Tickets: 0 opened · 1 solved · 0 open',
      '',
      '<b>Incidents</b>',
      '🔴 romashka · resolved: negative 6h: 14 vs 1.2 &lt;spike&gt;',
      '',
      'Held during quiet hours: 4',
    ].join('\n'));
  });

  it('keeps a huge incident and a digest of many brands within 4096 characters, tags and entities whole', () => {
    const huge = incidentEvent('incident.opened', {
      brand_name: '<&>'.repeat(3000),
      top_terms: Array.from({ length: 300 }, (_, i) => `term&${i}`),
      top_sources: Array.from({ length: 300 }, (_, i) => ({ source: `s<${i}>`, count: i })),
      top_posts: incident.top_posts.map((p) => ({ ...p, url: `https://vk.com/${'a&'.repeat(2500)}`, excerpt: '<&>'.repeat(3000), author: '"'.repeat(2000) })),
    }, '<b>'.repeat(3000));
    const text = renderTelegramText(huge);
    expect(text.length).toBeLessThanOrEqual(4096);
    expect(text.length).toBeGreaterThan(1000);
    expect(checkTelegramHtml(text)).toBeNull();
    expect(text).toContain('Top posts');
    // A link that long cannot be cut: its label stands alone.
    expect(text).not.toContain('<a ');

    const many = structuredClone(digest);
    many.data.digest.brands = Array.from({ length: 400 }, (_, i) => ({ ...digest.data.digest.brands[0]!, brand: `b${i}`, name: `Brand <${i}> & Co` }));
    many.data.digest.incidents = Array.from({ length: 200 }, (_, i) => ({ ...digest.data.digest.incidents[0]!, id: `i${i}`, summary: `spike & <${i}>` }));
    const long = renderTelegramText(many as unknown as Record<string, unknown>);
    expect(long.length).toBeLessThanOrEqual(4096);
    expect(checkTelegramHtml(long)).toBeNull();
    expect(long).toMatch(/…and \d+ more/);
    expect(long).toContain('Held during quiet hours: 4');
  });

  it('leads a ticket card with its final status and shows the assignee', () => {
    const solved = renderTelegramText(ticketEvent('ticket.updated', { status: 'solved', assignee: 'telegram:@anna_k', solved_at: '2026-11-22T11:00:00.000Z' }));
    expect(checkTelegramHtml(solved)).toBeNull();
    expect(solved.split('\n')[0]).toBe('<b>✅ Solved: [1★][2gis] Анна К.: Заказали доставку…</b>');
    expect(solved).toContain('Priority: high · Status: solved · Assignee: telegram:@anna_k');
    expect(solved).toContain('Solved: 2026-11-22 11:00 UTC');
    const ignored = renderTelegramText(ticketEvent('ticket.updated', { status: 'ignored', status_reason: 'not_actionable' }));
    expect(ignored.split('\n')[0]).toMatch(/^<b>✖ Not relevant: /);
    expect(ignored).toContain('Status: ignored (not_actionable)');
    // An update without an alert line is headed by the ticket's title.
    expect(renderTelegramText(ticketEvent('ticket.updated', { status: 'open' })).split('\n')[0]).toBe('<b>[1★][2gis] Анна К.: Заказали доставку…</b>');
  });
});

describe('telegram cards edited in place', () => {
  let fake: TelegramFake;
  let clock = NOW.getTime();
  const config = () => configFor(fake);
  const sendCard = (message: ChannelMessage, ctx: SendContext = CTX) => telegramConnector.sendMessage!(config(), message, { ...ctx, now: new Date(clock) });

  beforeAll(async () => {
    fake = await startTelegramFake({ token: TOKEN, chats: [CHAT, '-1002000000001'], limitPerChatPerSecond: true, limitPerGroupPerMinute: true, now: () => clock });
  });
  afterAll(() => fake.close());
  beforeEach(() => {
    clock += 120_000;
    fake.messages.length = 0;
    fake.requests.length = 0;
  });

  it('says it edits cards in place', () => {
    expect(telegramConnector.cardUpdates).toBe('edit');
  });

  it('sends a ticket card with its buttons, then edits the same message to solved and the buttons go', async () => {
    const first = await sendCard(card('ticket:1042', ticketEvent('ticket.created', {}, 'New ticket for Ромашка & Co, team care-ru')));
    expect(first).toMatchObject({ ok: true, status: 200 });
    const id = first.ok ? first.externalId! : '';
    const [sent] = fake.inChat(CHAT);
    expect(String(sent!.message_id)).toBe(id);
    expect(sent!.reply_markup).toEqual({
      inline_keyboard: [[{ text: '✔ Take it', callback_data: 'ack|ticket:1042' }, { text: '✖ Not relevant', callback_data: 'nr|ticket:1042' }]],
    });

    clock += 3000;
    const solved = await sendCard(card('ticket:1042', ticketEvent('ticket.updated', { status: 'solved', solved_at: '2026-11-22T11:00:00.000Z' }), { card: id }));
    expect(solved).toEqual({ ok: true, status: 200, externalId: id });
    expect(fake.inChat(CHAT)).toHaveLength(1);
    const edited = fake.inChat(CHAT)[0]!;
    expect(edited.versions).toHaveLength(2);
    expect(edited.text).not.toBe(edited.versions[0]!.text);
    expect(edited.text.split('\n')[0]).toMatch(/^<b>✅ Solved: /);
    expect(edited.reply_markup).toBeNull();
    const edit = fake.requests.at(-1)!;
    expect(edit.path).toBe('/bot<token>/editMessageText');
    expect(edit.body).toMatchObject({ chat_id: CHAT, message_id: Number(id), parse_mode: 'HTML', reply_markup: { inline_keyboard: [] } });
  });

  it('keeps an incident in one message from opened through escalated and acknowledged to resolved', async () => {
    const openUrl = 'https://earshot.example.com/incidents/inc_77';
    const opened = await sendCard(card('incident:inc_77', incidentEvent('incident.opened'), { openUrl }));
    const id = opened.ok ? opened.externalId! : 'none';
    const steps: [IncidentEvent['type'], Partial<IncidentDocument>][] = [
      ['incident.escalated', { severity: 'critical', escalated_at: '2026-11-22T10:10:00.000Z', escalation_reason: 'severity' }],
      ['incident.updated', { severity: 'critical', status: 'acknowledged', acknowledged_at: '2026-11-22T10:15:00.000Z', acknowledged_by: 'telegram:@anna_k' }],
      ['incident.resolved', { severity: 'critical', status: 'resolved', acknowledged_by: 'telegram:@anna_k', resolved_at: '2026-11-22T13:00:00.000Z', resolved_by: 'detector' }],
    ];
    for (const [type, over] of steps) {
      clock += 3000;
      expect(await sendCard(card('incident:inc_77', incidentEvent(type, over), { card: id, openUrl }))).toEqual({ ok: true, status: 200, externalId: id });
    }
    const messages = fake.inChat(CHAT);
    expect(messages).toHaveLength(1);
    const versions = messages[0]!.versions;
    expect(versions.map((v) => v.text.split('\n')[0]!.replace(/ · Ромашка.*$/, ''))).toEqual([
      '<b>🟠 Warning', '<b>🔴 Critical', '<b>👀 Acknowledged · 🔴 Critical', '<b>✅ Resolved · 🔴 Critical',
    ]);
    expect(versions.map((v) => buttonsOf(v.reply_markup))).toEqual([
      ['✔ Acknowledge', 'Open in earshot'], ['✔ Acknowledge', 'Open in earshot'], ['Open in earshot'], ['Open in earshot'],
    ]);
    expect(versions.at(-1)!.reply_markup!.inline_keyboard.at(-1)).toEqual([{ text: 'Open in earshot', url: openUrl }]);
    expect(messages[0]!.text).toContain('Acknowledged by telegram:@anna_k');
  });

  it('counts "message is not modified" as delivered: a retry of an edit that landed', async () => {
    const body = incidentEvent('incident.opened');
    const sent = await sendCard(card('incident:inc_77', body));
    const id = sent.ok ? sent.externalId! : 'none';
    clock += 3000;
    const again = await sendCard(card('incident:inc_77', body, { card: id }));
    expect(again).toMatchObject({ ok: true, externalId: id });
    expect(fake.requests.at(-1)).toMatchObject({ path: '/bot<token>/editMessageText', status: 400 });
    expect(fake.inChat(CHAT)).toHaveLength(1);
    expect(fake.inChat(CHAT)[0]!.versions).toHaveLength(1);
  });

  it('sends a fresh card when the old one was deleted or can no longer be edited, pacing each request', async () => {
    for (const lose of ['delete', 'freeze'] as const) {
      clock += 60_000;
      const sent = await sendCard(card('ticket:1042', ticketEvent('ticket.created', {}, 'New ticket')));
      const old = sent.ok ? Number(sent.externalId) : -1;
      if (lose === 'delete') expect(fake.deleteMessage(CHAT, old)).toBe(true);
      else fake.freezeMessage(CHAT, old);
      clock += 3000;
      const paced: string[] = [];
      const outcome = await sendCard(
        card('ticket:1042', ticketEvent('ticket.updated', { status: 'open', assignee: 'telegram:@anna_k' }), { card: String(old) }),
        // The second request waits for the chat's next slot, as the outbox's pacer does.
        { ...CTX, pace: async () => { paced.push(fake.requests.length === 0 ? 'first' : 'next'); clock += 3000; } },
      );
      expect(outcome.ok, lose).toBe(true);
      const fresh = outcome.ok ? Number(outcome.externalId) : -1;
      expect(fresh, lose).not.toBe(old);
      expect(paced, lose).toHaveLength(2);
      expect(fake.requests.slice(-2).map((r) => [r.path, r.status]), lose).toEqual([['/bot<token>/editMessageText', 400], ['/bot<token>/sendMessage', 200]]);
      const now = fake.messages.find((m) => m.message_id === fresh)!;
      expect(now.text, lose).toContain('Assignee: telegram:@anna_k');
      expect(buttonsOf(now.reply_markup), lose).toEqual(['✔ Take it', '✖ Not relevant']);
      fake.messages.length = 0;
      fake.requests.length = 0;
    }
  });

  it('gives up on an edit Telegram refuses for good, and retries one it is flooded with', async () => {
    const sent = await sendCard(card('ticket:1042', ticketEvent('ticket.created', {}, 'New ticket')));
    const id = sent.ok ? sent.externalId! : 'none';
    const flooded = await sendCard(card('ticket:1042', ticketEvent('ticket.updated', { status: 'solved' }), { card: id }));
    expect(flooded).toMatchObject({ ok: false, status: 429, retryAfterMs: 1000, gone: false });
    expect(flooded.ok === false && flooded.error).toMatch(/^telegram editMessageText: HTTP 429/);
    expectNoToken(flooded);
    clock += 3000;
    const wrongChat = await telegramConnector.sendMessage!(configFor(fake, { chatId: '-100111' }), card('ticket:1042', ticketEvent('ticket.updated'), { card: id }), CTX);
    expect(wrongChat).toMatchObject({ ok: false, status: 400, gone: true });
    expect(wrongChat.ok === false && wrongChat.error).toContain('chat not found');
  });

  it('puts only valid callback data of at most 64 bytes on buttons, and no buttons where none are due', async () => {
    const longest = `ticket:${'a'.repeat(50)}`;
    await sendCard(card(longest, ticketEvent('ticket.created', { id: 'a'.repeat(50) }, 'New ticket')));
    clock += 3000;
    await sendCard(card(`incident:${'Z'.repeat(50)}`, incidentEvent('incident.opened', { id: 'Z'.repeat(50) })));
    const data = fake.inChat(CHAT).flatMap((m) => (m.reply_markup?.inline_keyboard ?? []).flat()).map((b) => b.callback_data!);
    expect(data).toHaveLength(3);
    for (const d of data) {
      expect(Buffer.byteLength(d), d).toBeLessThanOrEqual(64);
      expect(decodeAction(d), d).not.toBeNull();
    }
    // A subject the data could not carry, a message without actions, a channel without updates, a solved ticket,
    // an alert without a subject: no buttons (and an unusable earshot link is left out), yet the message goes.
    const cases: [string, ChannelMessage, TelegramConfig][] = [
      ['bad subject', card('ticket:has space', ticketEvent('ticket.created')), config()],
      ['no actions', card('ticket:1042', ticketEvent('ticket.created'), { actions: false }), config()],
      ['updates off', card('ticket:1042', ticketEvent('ticket.created')), configFor(fake, { updates: 'off' })],
      ['solved', card('ticket:1042', ticketEvent('ticket.created', { status: 'solved' })), config()],
      ['acknowledged', card('incident:inc_77', incidentEvent('incident.updated', { status: 'acknowledged' })), config()],
      ['no subject', card(null, targetAlert), config()],
      ['local url', card(null, destinationAlert, { openUrl: 'http://localhost:8080/x' }), config()],
    ];
    for (const [name, message, cfg] of cases) {
      fake.requests.length = 0;
      clock += 3000;
      expect((await telegramConnector.sendMessage!(cfg, message, CTX)).ok, name).toBe(true);
      expect(fake.requests[0]!.body!.reply_markup, name).toBeUndefined();
    }
    clock += 3000;
    await sendCard(card(null, targetAlert, { openUrl: 'https://earshot.example.com/targets/yandex-maps-1' }));
    expect(fake.messages.at(-1)!.reply_markup).toEqual({ inline_keyboard: [[{ text: 'Open in earshot', url: 'https://earshot.example.com/targets/yandex-maps-1' }]] });
  });

  it('holds a group to 20 messages a minute at its pace: queued, never refused', async () => {
    const group = '-1002000000001';
    const cfg = configFor(fake, { chatId: group });
    const interval = telegramConnector.minIntervalMs!(cfg);
    for (let i = 0; i < 45; i++) {
      const outcome = await telegramConnector.sendMessage!(cfg, card(null, targetAlert), { ...CTX, now: new Date(clock) });
      expect(outcome.ok, `message ${i}`).toBe(true);
      clock += interval;
    }
    const times = fake.inChat(group).map((m) => m.at);
    expect(times.every((t) => times.filter((u) => u >= t && u < t + 60_000).length <= 20)).toBe(true);
    // Any faster and the fake's flood control (Telegram's, for a group) refuses.
    clock += 120_000;
    let refused = 0;
    for (let i = 0; i < 25; i++) {
      const outcome = await telegramConnector.sendMessage!(cfg, card(null, targetAlert), { ...CTX, now: new Date(clock) });
      if (!outcome.ok) refused++;
      clock += 2000;
    }
    expect(refused).toBeGreaterThan(0);
  });
});

describe('telegram button presses', () => {
  let fake: TelegramFake;
  let clock = NOW.getTime();
  const anna = { id: 4403119, first_name: 'Анна', username: 'anna_k' };

  beforeAll(async () => {
    fake = await startTelegramFake({ token: TOKEN, limitPerChatPerSecond: true, now: () => clock });
  });
  afterAll(() => fake.close());
  beforeEach(() => {
    clock += 120_000;
    fake.useWebhook(null);
    fake.messages.length = 0;
    fake.requests.length = 0;
    fake.answers.length = 0;
  });

  async function postCard(subject: string, body: Record<string, unknown>, cfg = configFor(fake)): Promise<number> {
    clock += 3000;
    const outcome = await telegramConnector.sendMessage!(cfg, card(subject, body), { ...CTX, now: new Date(clock) });
    if (!outcome.ok) throw new Error(outcome.error);
    return Number(outcome.externalId);
  }

  /** Drains what is queued, so each test starts from a confirmed offset. */
  async function drain(cfg: TelegramConfig): Promise<number | null> {
    const { offset } = await telegramConnector.pollActions!(cfg, null, { waitSeconds: 0 });
    return offset;
  }

  it('reads a pressed button by long polling once, and answers the press', async () => {
    const cfg = configFor(fake);
    const start = await drain(cfg);
    const id = await postCard('incident:inc_77', incidentEvent('incident.opened'));
    const { update } = await fake.press(CHAT, id, 'ack|incident:inc_77', anna);

    const polled = await telegramConnector.pollActions!(cfg, start, { waitSeconds: 5 });
    expect(polled).toEqual({
      actions: [{ kind: 'ack', subject: 'incident:inc_77', by: 'telegram:@anna_k', replyTo: update.callback_query!.id }],
      offset: update.update_id + 1,
    });
    expect(fake.requests.at(-1)!.body).toEqual({ offset: start ?? undefined, timeout: 5, allowed_updates: ['callback_query'] });
    // The next poll confirms it: it never comes back.
    const again = await telegramConnector.pollActions!(cfg, polled.offset, { waitSeconds: 0 });
    expect(again).toEqual({ actions: [], offset: polled.offset });
    expect(fake.updates).toEqual([]);

    await telegramConnector.answerAction!(cfg, polled.actions[0]!, `Acknowledged by @anna_k. ${'x'.repeat(300)}`, { timeoutMs: 2000 });
    expect(fake.answers).toHaveLength(1);
    expect(fake.answers[0]!.callback_query_id).toBe(update.callback_query!.id);
    expect(fake.answers[0]!.text!.startsWith('Acknowledged by @anna_k.')).toBe(true);
    expect(fake.answers[0]!.text!.length).toBeLessThanOrEqual(200);
    // Answered twice (or too late): Telegram refuses, and the error names no token.
    const late = await telegramConnector.answerAction!(cfg, polled.actions[0]!, 'again', { timeoutMs: 2000 }).catch((e: unknown) => e);
    expect(late).toBeInstanceOf(TelegramApiError);
    expect((late as TelegramApiError).message).toContain('query is too old');
    expectNoTokenIn(late);
  });

  it('wakes a waiting long poll when a button is pressed, and reads "Not relevant" and a person without a username', async () => {
    const cfg = configFor(fake);
    const start = await drain(cfg);
    const id = await postCard('ticket:1042', ticketEvent('ticket.created', {}, 'New ticket'));
    const began = Date.now();
    const polling = telegramConnector.pollActions!(cfg, start, { waitSeconds: 20 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await fake.press(CHAT, id, 'nr|ticket:1042', { id: 777, first_name: 'Иван\u0000\u202e Петров' });
    const polled = await polling;
    expect(Date.now() - began).toBeLessThan(5000);
    expect(polled.actions).toEqual([{ kind: 'not_relevant', subject: 'ticket:1042', by: 'telegram:Иван Петров (777)', replyTo: expect.any(String) }]);
  });

  it('waits out a quiet poll and keeps the offset; an abort ends the wait', async () => {
    const cfg = configFor(fake);
    const start = await drain(cfg);
    expect(await telegramConnector.pollActions!(cfg, start, { waitSeconds: 1 })).toEqual({ actions: [], offset: start });
    const controller = new AbortController();
    const polling = telegramConnector.pollActions!(cfg, start, { waitSeconds: 30, signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    await expect(polling).rejects.toThrow();
  });

  it('ignores presses in another chat and foreign data, yet confirms them', async () => {
    const cfg = configFor(fake);
    const start = await drain(cfg);
    const other = '-1009999999999';
    const otherId = await postCard('incident:inc_77', incidentEvent('incident.opened'), configFor(fake, { chatId: other }));
    const ours = await postCard('incident:inc_77', incidentEvent('incident.opened'));
    await fake.press(other, otherId, 'ack|incident:inc_77', anna);
    await fake.press(CHAT, ours, 'drop table|incident:inc_77', anna, { unchecked: true });
    const last = await fake.press(CHAT, ours, 'ack|incident:inc_77', anna);
    const polled = await telegramConnector.pollActions!(cfg, start, { waitSeconds: 0 });
    expect(polled.actions).toHaveLength(1);
    expect(polled.actions[0]!.replyTo).toBe(last.update.callback_query!.id);
    expect(polled.offset).toBe(last.update.update_id + 1);
    // A channel named by @username knows its chat by the chat's username.
    const named = configFor(fake, { chatId: '@earshot_alerts' });
    const namedId = await postCard('incident:inc_77', incidentEvent('incident.opened'), named);
    const pressed = await fake.press('@earshot_alerts', namedId, 'ack|incident:inc_77', anna);
    expect((await telegramConnector.pollActions!(named, polled.offset, { waitSeconds: 0 })).actions).toEqual([
      expect.objectContaining({ replyTo: pressed.update.callback_query!.id }),
    ]);
  });

  it('does not poll a channel that takes webhooks or no updates', async () => {
    for (const updates of ['webhook', 'off'] as const) {
      fake.requests.length = 0;
      const cfg = configFor(fake, { updates, ...(updates === 'webhook' ? { webhookSecret: WEBHOOK_SECRET } : {}) });
      expect(await telegramConnector.pollActions!(cfg, 42, { waitSeconds: 0 })).toEqual({ actions: [], offset: 42 });
      expect(fake.requests).toEqual([]);
    }
  });

  it('throws a token-free error when polling conflicts (409), Telegram is down or unreachable, or the token is wrong', async () => {
    const cfg = configFor(fake);
    fake.useWebhook({ url: 'http://127.0.0.1:1/hook', secretToken: WEBHOOK_SECRET });
    const conflict = await telegramConnector.pollActions!(cfg, null, { waitSeconds: 0 }).catch((e: unknown) => e);
    expect(conflict).toMatchObject({ name: 'TelegramApiError', status: 409 });
    expect((conflict as Error).message).toMatch(/^telegram getUpdates: HTTP 409: Conflict/);
    fake.useWebhook(null);
    // Two pollers of one bot: the older one is cut off with 409.
    const start = await drain(cfg);
    const older = telegramConnector.pollActions!(cfg, start, { waitSeconds: 10 }).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await telegramConnector.pollActions!(cfg, start, { waitSeconds: 0 });
    const cut = await older;
    expect((cut as Error).message).toContain('terminated by other getUpdates request');
    fake.setDown(true);
    const down = await telegramConnector.pollActions!(cfg, null, { waitSeconds: 0 }).catch((e: unknown) => e);
    expect(down).toMatchObject({ status: 502 });
    const answerDown = await telegramConnector.answerAction!(cfg, { kind: 'ack', subject: 'ticket:1', by: 'telegram:@a', replyTo: '1' }, 'ok', { timeoutMs: 2000 }).catch((e: unknown) => e);
    expect(answerDown).toMatchObject({ status: 502 });
    fake.setDown(false);
    const unreachable = await telegramConnector.pollActions!(configFor(fake, { apiUrl: 'http://127.0.0.1:1' }), null, { waitSeconds: 0 }).catch((e: unknown) => e);
    expect(unreachable).toMatchObject({ name: 'TelegramApiError', status: null });
    const wrong = configFor(fake, { botToken: '7012345678:WRONGtokenWRONGtoken' });
    const unauthorized = await telegramConnector.pollActions!(wrong, null, { waitSeconds: 0 }).catch((e: unknown) => e);
    expect(unauthorized).toMatchObject({ status: 401 });
    expect(String(unauthorized)).not.toContain('WRONGtokenWRONGtoken');
    for (const error of [conflict, cut, down, answerDown, unreachable, unauthorized]) {
      expect(error).toBeInstanceOf(TelegramApiError);
      expectNoTokenIn(error);
    }
  });

  describe('by webhook', () => {
    let server: Server;
    let hookUrl = '';
    let received: ActionResult[] = [];
    let cfg: TelegramConfig;

    beforeAll(async () => {
      // earshot's side of the webhook, reduced to the connector: what it answers is what receiveAction says.
      server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const result = telegramConnector.receiveAction!(cfg, { headers: req.headers, rawBody: Buffer.concat(chunks).toString('utf8') }, { now: NOW });
          received.push(result);
          res.writeHead(result.ok ? 200 : result.status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(result.ok ? result.response ?? {} : { error: result.error }));
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      hookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/hooks/telegram/tg-care`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
    beforeEach(() => {
      received = [];
      cfg = configFor(fake, { updates: 'webhook', webhookSecret: WEBHOOK_SECRET });
    });

    it('takes a press with the right secret, and refuses a wrong or missing one with 401', async () => {
      const id = await postCard('incident:inc_77', incidentEvent('incident.opened'), cfg);
      fake.useWebhook({ url: hookUrl, secretToken: WEBHOOK_SECRET });
      const right = await fake.press(CHAT, id, 'ack|incident:inc_77', { id: 5, first_name: 'Оля', username: 'olya' });
      expect(right.webhook!.status).toBe(200);
      expect(received[0]).toEqual({ ok: true, actions: [{ kind: 'ack', subject: 'incident:inc_77', by: 'telegram:@olya', replyTo: right.update.callback_query!.id }] });

      for (const secretToken of [`${WEBHOOK_SECRET}x`, WEBHOOK_SECRET.slice(1), undefined]) {
        fake.useWebhook({ url: hookUrl, ...(secretToken !== undefined ? { secretToken } : {}) });
        const pressed = await fake.press(CHAT, id, 'ack|incident:inc_77', anna);
        expect(pressed.webhook!.status, String(secretToken)).toBe(401);
        expect(pressed.webhook!.body).not.toContain(WEBHOOK_SECRET);
      }
      // A channel that polls takes no posts, whatever the header says.
      cfg = configFor(fake);
      fake.useWebhook({ url: hookUrl, secretToken: WEBHOOK_SECRET });
      expect((await fake.press(CHAT, id, 'ack|incident:inc_77', anna)).webhook!.status).toBe(401);
      expect(received.slice(1).every((r) => !r.ok && r.status === 401)).toBe(true);
    });

    it('answers other updates with no actions, another chat with none, and a malformed body with 400', () => {
      const headers = { 'x-telegram-bot-api-secret-token': WEBHOOK_SECRET, 'content-type': 'application/json' };
      const receive = (rawBody: string, h: Record<string, string | string[]> = headers) => telegramConnector.receiveAction!(cfg, { headers: h, rawBody }, { now: NOW });
      const press = (chatId: number, data = 'nr|ticket:1042') => JSON.stringify({
        update_id: 9, callback_query: { id: 'q1', from: { id: 1, is_bot: false, first_name: 'A' }, chat_instance: '1', data, message: { message_id: 5, date: 1, chat: { id: chatId, type: 'supergroup' } } },
      });
      expect(receive(press(Number(CHAT)))).toEqual({ ok: true, actions: [{ kind: 'not_relevant', subject: 'ticket:1042', by: 'telegram:A (1)', replyTo: 'q1' }] });
      expect(receive(press(-1009999999999))).toEqual({ ok: true, actions: [] });
      expect(receive(press(Number(CHAT), 'ack|user:1'))).toEqual({ ok: true, actions: [] });
      expect(receive(JSON.stringify({ update_id: 10, message: { message_id: 1, text: 'hi', chat: { id: Number(CHAT) } } }))).toEqual({ ok: true, actions: [] });
      for (const bad of ['not json', '[]', '{"update_id":"x"}', JSON.stringify({ update_id: 11, callback_query: { data: 'ack|ticket:1' } })]) {
        expect(receive(bad), bad).toMatchObject({ ok: false, status: 400 });
      }
      expect(receive(press(Number(CHAT)), { ...headers, 'x-telegram-bot-api-secret-token': [WEBHOOK_SECRET, WEBHOOK_SECRET] })).toMatchObject({ ok: false, status: 401 });
    });
  });
});

function expectNoTokenIn(error: unknown): void {
  const text = `${String(error)} ${JSON.stringify(error)} ${(error as Error)?.stack ?? ''}`;
  expect(text).not.toContain(TOKEN);
  expect(text).not.toContain(TOKEN.split(':')[1]);
}
