import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { MentionDocument } from '../../documents/mention.ts';
import type { TicketDocument, TicketEvent } from '../../documents/ticket.ts';
import { checkTelegramHtml, startTelegramFake, type TelegramFake } from '../../tests/helpers/telegram-fake.ts';
import { renderTelegramText, telegramConfigSchema, telegramConnector, type TelegramConfig } from './telegram.ts';
import type { DeliveryOutcome, SendContext } from './types.ts';

const TOKEN = '7012345678:AAH3kq_Xz-9vLw2mQpR8sT1uV4yZ0aBcDeF';
const NOW = new Date('2026-11-22T10:00:00Z');
const CTX: SendContext = { now: NOW, timeoutMs: 2000 };
const CHAT = '-1001987654321';

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
  return telegramConnector.sendMessage!(config, { messageId: 'msg_1', body }, ctx);
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

  it('paces groups at 20 a minute and private chats at 1 a second', () => {
    expect(telegramConnector.minIntervalMs!(telegramConfigSchema.parse(base))).toBe(3000);
    expect(telegramConnector.minIntervalMs!(telegramConfigSchema.parse({ ...base, chatId: 123456789 }))).toBe(1000);
    expect(telegramConnector.minIntervalMs!(telegramConfigSchema.parse({ ...base, chatId: '@earshot_alerts' }))).toBe(1000);
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
