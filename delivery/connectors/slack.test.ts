import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { MentionDocument } from '../../documents/mention.ts';
import type { TicketDocument } from '../../documents/ticket.ts';
import { isSecretSchema } from '../../lib/secret.ts';
import { slackBlocksProblem, startSlackFake } from '../../tests/helpers/slack-fake.ts';
import { escapeMrkdwn, renderSlackMessage, SLACK_LIMITS, slackConfigSchema, slackConnector, type SlackConfig } from './slack.ts';

const NOW = new Date('2026-11-22T10:00:00Z');
const CTX = { now: NOW, timeoutMs: 2000 };

function makeMention(overrides: Partial<MentionDocument> = {}): MentionDocument {
  return {
    id: 'mnt_01JD8Z4Q2W', source: 'app-store', external_id: '11223344556', brand: 'acme', brands: ['acme'], target_id: 'acme-ios',
    url: 'https://apps.apple.com/us/app/acme-bank/id1234567890?see-all=reviews&page=1',
    author: { name: 'Jamie R.', handle: null, id: null, url: null, followers: null },
    title: 'App crashes on login <again>',
    text: 'Since the update the app crashes & I can\'t pay.\n\nFix it. <!channel> <script>alert(1)</script>',
    rating: 1, published_at: '2026-11-22T08:41:00.000Z', first_seen_at: '2026-11-22T09:00:00.000Z', updated_at: '2026-11-22T09:00:00.000Z',
    lang: 'en',
    sentiment: { label: 'negative', score: -0.91, model: 'earshot-en-1', confidence: 0.97, low_confidence: false, reason: null },
    actionable: true, action_reasons: ['complaint'], cluster: null,
    corrected: { sentiment: false, actionable: false }, metrics: {}, reply: null, answered: false, details: {},
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

function ticketAlert(ticket: TicketDocument, summary = `New ticket for acme, team mobile: ${ticket.title}`) {
  return {
    type: 'ticket.created',
    timestamp: NOW.toISOString(),
    data: { ticket, change: null, alert: { kind: 'ticket_created', summary } },
  };
}

const targetAlert = {
  type: 'target.failing',
  timestamp: NOW.toISOString(),
  data: {
    target: {
      id: 'acme-ios', source: 'app-store', brand: 'Acme <Bank>', state: 'blocked', last_success_at: null,
      last_error: 'HTTP 403 & captcha', consecutive_errors: 4,
    },
    alert: { kind: 'target_failing', summary: 'app-store target "acme-ios" (Acme) is blocked: 4 failed crawl(s) in a row' },
  },
};

const destinationAlert = {
  type: 'destination.failing',
  timestamp: NOW.toISOString(),
  data: {
    destination: { kind: 'helpdesk', id: 'zendesk-main' },
    failing_since: '2026-11-22T09:00:00.000Z',
    consecutive_failures: 5,
    last_status: 503,
    last_error: 'HTTP 503: <html>',
    alert: { kind: 'destination_failing', summary: 'helpdesk "zendesk-main" is failing: 5 failed delivery attempts in a row' },
  },
};

type Block = { type: string; text?: { type: string; text: string }; fields?: { text: string }[]; elements?: { text: string }[] };
const texts = (blocks: unknown[]) =>
  (blocks as Block[]).flatMap((b) => [b.text?.text, ...(b.fields ?? []).map((f) => f.text), ...(b.elements ?? []).map((e) => e.text)])
    .filter((t): t is string => typeof t === 'string');

function expectWithinLimits(message: { text: string; blocks: unknown[] }) {
  expect(slackBlocksProblem(message.blocks)).toBeNull();
  expect(message.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
  for (const b of message.blocks as Block[]) {
    if (b.type === 'header') expect(b.text!.text.length).toBeLessThanOrEqual(SLACK_LIMITS.headerText);
    if (b.type === 'section' && b.text) expect(b.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
  }
  // A cut never leaves half an escape behind.
  for (const t of texts(message.blocks)) expect(t).not.toMatch(/&(a|am|amp|l|lt|g|gt)?…/);
}

describe('slack connector', () => {
  let fake: Awaited<ReturnType<typeof startSlackFake>>;
  let config: SlackConfig;

  beforeAll(async () => {
    fake = await startSlackFake();
    config = slackConfigSchema.parse({ id: 'alerts-slack', type: 'slack', url: fake.url });
  });
  afterAll(() => fake.close());
  beforeEach(() => {
    fake.messages.length = 0;
    fake.setDown(false);
    fake.rateLimitNext(0, 0);
  });

  const send = (body: Record<string, unknown>, cfg: SlackConfig = config) =>
    slackConnector.sendMessage!(cfg, { messageId: 'msg_1', body }, CTX);

  it('has a strict config whose webhook URL is a secret, and paces at one message a second', () => {
    expect(slackConfigSchema.parse({ id: 'ops', type: 'slack', url: 'https://hooks.slack.com/services/T0/B0/x' }))
      .toEqual({ id: 'ops', type: 'slack', url: 'https://hooks.slack.com/services/T0/B0/x' });
    expect(slackConfigSchema.safeParse({ id: 'ops', type: 'slack', url: 'ftp://hooks.slack.com/x' }).success).toBe(false);
    expect(slackConfigSchema.safeParse({ id: 'Ops!', type: 'slack', url: 'https://hooks.slack.com/x' }).success).toBe(false);
    expect(slackConfigSchema.safeParse({ id: 'ops', type: 'slack', url: 'https://hooks.slack.com/x', token: 'x' }).success).toBe(false);
    expect(isSecretSchema(slackConfigSchema.shape.url)).toBe(true);
    expect(slackConnector.type).toBe('slack');
    expect(slackConnector.minIntervalMs!(config)).toBe(1000);
  });

  it('renders a ticket alert as valid blocks with escaped user text and the source link, and posts it', async () => {
    const paced: string[] = [];
    const body = ticketAlert(makeTicket());
    const outcome = await slackConnector.sendMessage!(config, { messageId: 'msg_1', body }, { ...CTX, pace: async () => { paced.push('pace'); } });
    expect(outcome).toEqual({ ok: true, status: 200 });
    expect(paced).toEqual(['pace']);
    expect(fake.messages).toHaveLength(1);
    const sent = fake.messages[0]!;
    expect(sent).toEqual(renderSlackMessage(body));
    const message = sent as { text: string; blocks: Block[] };
    expectWithinLimits(message);
    expect(message.text).toBe('New ticket for acme, team mobile: [NEG][App Store] Jamie R.: App crashes on login &lt;again&gt;');
    expect(message.blocks[0]).toMatchObject({ type: 'header', text: { type: 'plain_text' } });
    const all = texts(message.blocks).join('\n');
    expect(all).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(all).toContain('&lt;!channel&gt;');
    expect(all).toContain('crashes &amp; I');
    expect(all).not.toContain('<script>');
    expect(all).not.toContain('<!channel>');
    expect(all).toContain('<https://apps.apple.com/us/app/acme-bank/id1234567890?see-all=reviews&amp;page=1|Open on source>');
    const fields = message.blocks.find((b) => b.fields)!.fields!.map((f) => f.text);
    expect(fields).toEqual(expect.arrayContaining(['*Brand*\nacme', '*Team*\nmobile', '*Priority*\nhigh', '*Status*\nnew',
      '*Source*\napp-store', '*Author*\nJamie R.', '*Rating*\n★☆☆☆☆ (1/5)']));
    const quote = message.blocks.find((b) => b.text?.text.includes('Since the update'))!.text!.text;
    expect(quote).toBe("*App crashes on login &lt;again&gt;*\n>Since the update the app crashes &amp; I can't pay.\n>\n>Fix it. &lt;!channel&gt; &lt;script&gt;alert(1)&lt;/script&gt;");
  });

  it('links only http(s) source urls, and keeps | and > out of the link', () => {
    const js = renderSlackMessage(ticketAlert(makeTicket({ mention: makeMention({ url: 'javascript:alert(1)' }) })));
    expect(texts(js.blocks).join('\n')).not.toContain('Open on source');
    const odd = renderSlackMessage(ticketAlert(makeTicket({ mention: makeMention({ url: 'https://x.example/a|b>c' }) })));
    expect(texts(odd.blocks).join('\n')).toContain('<https://x.example/a%7Cb%3Ec|Open on source>');
  });

  it('cuts long text within Slack limits without breaking an escape', async () => {
    const long = '&<>'.repeat(5000);
    const ticket = makeTicket({ title: long, brand: long, mention: makeMention({ title: long, text: `${'a'.repeat(700)}\n${long}` }) });
    const message = renderSlackMessage(ticketAlert(ticket, long));
    expectWithinLimits(message);
    expect(message.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
    // The summary is too long for a header: a bold section instead.
    expect((message.blocks[0] as Block).type).toBe('section');
    const quote = texts(message.blocks).find((t) => t.includes('>aaaa'))!;
    // The mention's text is cut at 600 characters, before its escapes.
    expect(quote.slice(quote.indexOf('>aaaa'))).toBe(`>${'a'.repeat(600)}…`);
    expect(await send(ticketAlert(ticket, long))).toEqual({ ok: true, status: 200 });

    const shortEnough = renderSlackMessage(ticketAlert(makeTicket(), 'x'.repeat(150)));
    expect((shortEnough.blocks[0] as Block).type).toBe('header');
    expect(escapeMrkdwn('a & <b> c')).toBe('a &amp; &lt;b&gt; c');
  });

  it('renders target and destination alerts with their fields', async () => {
    const target = renderSlackMessage(targetAlert);
    expectWithinLimits(target);
    const targetText = texts(target.blocks).join('\n');
    expect(targetText).toContain('*Target*');
    expect(targetText).toContain('*State*\nblocked');
    expect(targetText).toContain('*Brand*\nAcme &lt;Bank&gt;');
    expect(targetText).toContain('*Last error*\nHTTP 403 &amp; captcha');
    expect(targetText).toContain('*Consecutive errors*\n4');
    expect(await send(targetAlert)).toEqual({ ok: true, status: 200 });

    const destination = renderSlackMessage(destinationAlert);
    expectWithinLimits(destination);
    const destinationText = texts(destination.blocks).join('\n');
    expect(destinationText).toContain('*Destination*');
    expect(destinationText).toContain('*Kind*\nhelpdesk');
    expect(destinationText).toContain('*Id*\nzendesk-main');
    expect(destinationText).toContain('*Consecutive failures*\n5');
    expect(destinationText).toContain('*Last error*\nHTTP 503: &lt;html&gt;');
    expect(await send(destinationAlert)).toEqual({ ok: true, status: 200 });
    expect(fake.messages).toHaveLength(2);
  });

  it('retries a 429 after its Retry-After', async () => {
    fake.rateLimitNext(1, 7);
    const limited = await send(targetAlert);
    expect(limited).toMatchObject({ ok: false, status: 429, retryAfterMs: 7000, gone: false, error: 'HTTP 429: rate_limited' });
    expect(await send(targetAlert)).toEqual({ ok: true, status: 200 });
  });

  it('retries a 503 and a network error', async () => {
    fake.setDown(true);
    expect(await send(targetAlert)).toMatchObject({ ok: false, status: 503, gone: false });
    const closed = await startSlackFake();
    const unreachable = slackConfigSchema.parse({ id: 'gone', type: 'slack', url: closed.url });
    await closed.close();
    const outcome = await send(targetAlert, unreachable);
    expect(outcome).toMatchObject({ ok: false, status: null, gone: false, retryAfterMs: null });
    expect(JSON.stringify(outcome)).not.toContain('/services/');
  });

  it.each([
    [400, 'invalid_blocks'],
    [400, 'no_text'],
    [403, 'invalid_token'],
    [403, 'action_prohibited'],
    [404, 'channel_not_found'],
    [410, 'channel_is_archived'],
  ])('gives up at once on %i %s', async (status, code) => {
    fake.answerNext(status, code);
    expect(await send(targetAlert)).toEqual({ ok: false, status, error: `HTTP ${status}: ${code}`, retryAfterMs: null, gone: true });
  });

  it('gives up on an unknown webhook (404 no_service) and never puts the webhook URL in an error', async () => {
    const wrong = slackConfigSchema.parse({ id: 'wrong', type: 'slack', url: `${fake.base}/services/T000/B000/WRONGWRONGWRONG` });
    const outcome = await send(targetAlert, wrong);
    expect(outcome).toEqual({ ok: false, status: 404, error: 'HTTP 404: no_service', retryAfterMs: null, gone: true });
    for (const o of [outcome, await send(targetAlert, { ...config, url: `${config.url}x` })]) {
      expect(JSON.stringify(o)).not.toContain('WRONGWRONGWRONG');
      expect(JSON.stringify(o)).not.toContain(config.url);
    }
  });

  it('the fake refuses what Slack refuses', async () => {
    const post = (payload: unknown) =>
      fetch(fake.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) })
        .then(async (r) => [r.status, await r.text()]);
    expect(await post({})).toEqual([400, 'no_text']);
    expect(await post({ text: 'x', blocks: Array.from({ length: 51 }, () => ({ type: 'divider' })) })).toEqual([400, 'invalid_blocks']);
    expect(await post({ text: 'x', blocks: [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }] })).toEqual([400, 'invalid_blocks']);
    expect(await post({ text: 'x', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 's'.repeat(3001) } }] })).toEqual([400, 'invalid_blocks']);
    expect(await post({ text: 'x', blocks: [{ type: 'carousel' }] })).toEqual([400, 'invalid_blocks']);
    expect(await post({ text: 'x' })).toEqual([200, 'ok']);
  });
});
