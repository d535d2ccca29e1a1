import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { redactValue } from '../../config/redact.ts';
import type { DigestDocument, IncidentDocument, IncidentEventType } from '../../documents/incident.ts';
import type { MentionDocument } from '../../documents/mention.ts';
import type { TicketDocument } from '../../documents/ticket.ts';
import { isSecretSchema } from '../../lib/secret.ts';
import {
  blockActionsPayload,
  signSlackRequest,
  SLACK_FAKE_RESPONSE_PATH,
  slackBlocksProblem,
  slackInteractionBody,
  startSlackFake,
} from '../../tests/helpers/slack-fake.ts';
import {
  escapeMrkdwn,
  receiveSlackAction,
  renderSlackMessage,
  SLACK_LIMITS,
  slackConfigSchema,
  slackConnector,
  answerSlackAction,
  type SlackConfig,
} from './slack.ts';
import type { ChannelMessage } from './types.ts';

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

function makeIncident(overrides: Partial<IncidentDocument> = {}): IncidentDocument {
  return {
    id: 'inc_01JD9A', brand: 'acme', brand_name: 'Acme <Bank>', scope: 'all', severity: 'critical', status: 'open',
    opened_at: '2026-11-22T09:40:00.000Z', escalated_at: null, escalation_reason: null,
    acknowledged_at: null, acknowledged_by: null, resolved_at: null, resolved_by: null, resolution_note: null,
    why: {
      summary: 'negative 6h: 14 vs expected 1.2 (p=3e-7), 9 authors & <!here>', rules: ['nb_tail', 'high_reach'], regime: 'low',
      window_minutes: 360, observed: 14, expected: 1.2, lift: 11.67, p_value: 3e-7, z: null, authors: 9, reach: 1234567,
    },
    peak: { observed: 14, expected: 1.2 },
    top_terms: ['crash', 'login', '<!channel>'],
    top_sources: [{ source: 'app-store', count: 9 }, { source: 'vk', count: 5 }],
    languages: [{ language: 'en', count: 10 }, { language: 'ru', count: 4 }],
    top_posts: [
      { mention_id: 'mnt_1', url: 'https://vk.com/wall-1_2?reply=3&thread=4', source: 'vk', author: 'Jamie <R>', reach: 52000, published_at: '2026-11-22T09:00:00.000Z',
        excerpt: 'The app | crashes <script>alert(1)</script>\nand > eats money' },
      { mention_id: 'mnt_2', url: 'javascript:alert(1)', source: 'app-store', author: null, reach: null, published_at: null, excerpt: 'Cannot log in & pay' },
      { mention_id: 'mnt_3', url: 'https://x.example/p|q>r', source: 'rss', author: 'Blog', reach: 10, published_at: null, excerpt: 'Outage at Acme' },
    ],
    tickets: 3,
    url: 'https://earshot.example/incidents/inc_01JD9A',
    ...overrides,
  };
}

function incidentEvent(type: IncidentEventType, incident: IncidentDocument, summary = `Critical incident for ${incident.brand_name}`) {
  return { type, timestamp: NOW.toISOString(), data: { incident, alert: { kind: type.replace('.', '_'), summary } } };
}

function makeDigest(overrides: Partial<DigestDocument> = {}): DigestDocument {
  return {
    channel: 'alerts-slack', period_start: '2026-11-21T06:00:00.000Z', period_end: '2026-11-22T06:00:00.000Z', time_zone: 'Europe/Moscow',
    brands: [
      { brand: 'acme', name: 'Acme <Bank>', mentions: 1204, negative: 87, tickets_opened: 12, tickets_solved: 9, tickets_open: 5, sla_breached: 1, incidents: 1 },
      { brand: 'zeta', name: 'Zeta & Co', mentions: 1, negative: 0, tickets_opened: 0, tickets_solved: 0, tickets_open: 0, sla_breached: 0, incidents: 0 },
    ],
    incidents: [{ id: 'inc_01JD9A', brand: 'acme', severity: 'critical', status: 'resolved', summary: 'negative 6h: 14 vs expected 1.2 <b>' }],
    held: 4,
    ...overrides,
  };
}

function digestEvent(digest: DigestDocument) {
  return { type: 'digest', timestamp: NOW.toISOString(), data: { digest, alert: { kind: 'digest', summary: 'Daily digest for alerts-slack' } } };
}

function channelMessage(body: Record<string, unknown>): ChannelMessage {
  return { messageId: 'msg_1', body, subject: null, card: null, openUrl: null, actions: false };
}

type Block = { type: string; text?: { type: string; text: string }; fields?: { text: string }[]; elements?: { text: string }[] };
const texts = (blocks: unknown[]) =>
  (blocks as Block[]).flatMap((b) => [b.text?.text, ...(b.fields ?? []).map((f) => f.text), ...(b.elements ?? []).map((e) => e.text)])
    .filter((t): t is string => typeof t === 'string');

type Button = { type: string; action_id: string; value?: string; url?: string };
const buttons = (blocks: unknown[]) =>
  (blocks as { type: string; elements?: Button[] }[]).filter((b) => b.type === 'actions').flatMap((b) => b.elements ?? []);

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

  const send = (body: Record<string, unknown>, cfg: SlackConfig = config, extra: Partial<ChannelMessage> = {}) =>
    slackConnector.sendMessage!(cfg, { ...channelMessage(body), ...extra }, CTX);

  it('has a strict config whose webhook URL is a secret, and paces at one message a second', () => {
    expect(slackConfigSchema.parse({ id: 'ops', type: 'slack', url: 'https://hooks.slack.com/services/T0/B0/x' }))
      .toEqual({ id: 'ops', type: 'slack', url: 'https://hooks.slack.com/services/T0/B0/x' });
    expect(slackConfigSchema.safeParse({ id: 'ops', type: 'slack', url: 'ftp://hooks.slack.com/x' }).success).toBe(false);
    expect(slackConfigSchema.safeParse({ id: 'Ops!', type: 'slack', url: 'https://hooks.slack.com/x' }).success).toBe(false);
    expect(slackConfigSchema.safeParse({ id: 'ops', type: 'slack', url: 'https://hooks.slack.com/x', token: 'x' }).success).toBe(false);
    expect(isSecretSchema(slackConfigSchema.shape.url)).toBe(true);
    expect(isSecretSchema(slackConfigSchema.shape.signingSecret.unwrap())).toBe(true);
    const signed = slackConfigSchema.parse({ id: 'ops', type: 'slack', url: 'https://hooks.slack.com/x', signingSecret: '8f742231b10e8888abcd99yyyzzz85a5' });
    expect(redactValue(slackConfigSchema, signed)).toEqual({ id: 'ops', type: 'slack', url: '***', signingSecret: '***' });
    expect(slackConfigSchema.safeParse({ id: 'ops', type: 'slack', url: 'https://hooks.slack.com/x', signingSecret: '' }).success).toBe(false);
    // An incoming webhook cannot edit what it posted: refresh events are not sent to Slack.
    expect(slackConnector.cardUpdates).toBeUndefined();
    expect(slackConnector.receiveAction).toBeTypeOf('function');
    expect(slackConnector.type).toBe('slack');
    expect(slackConnector.minIntervalMs!(config)).toBe(1000);
  });

  it('renders a ticket alert as valid blocks with escaped user text and the source link, and posts it', async () => {
    const paced: string[] = [];
    const body = ticketAlert(makeTicket());
    const outcome = await slackConnector.sendMessage!(config, channelMessage(body), { ...CTX, pace: async () => { paced.push('pace'); } });
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

  it('renders an incident as a card within limits: severity and brand, why, the numbers, escaped text, top posts as links', async () => {
    const body = incidentEvent('incident.opened', makeIncident({ acknowledged_by: 'slack:<pat>', acknowledged_at: '2026-11-22T09:50:00.000Z', status: 'acknowledged' }));
    const rendered = renderSlackMessage(body);
    expectWithinLimits(rendered);
    const blocks = rendered.blocks as Block[];
    expect(blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: '🔴 Critical incident · Acme <Bank>', emoji: false } });
    expect(rendered.text).toBe('Critical incident for Acme &lt;Bank&gt;');
    const all = texts(blocks).join('\n');
    expect(all).toContain('negative 6h: 14 vs expected 1.2 (p=3e-7), 9 authors &amp; &lt;!here&gt;');
    const fields = blocks.flatMap((b) => b.fields ?? []).map((f) => f.text);
    expect(fields).toEqual(expect.arrayContaining([
      '*Status*\nacknowledged', '*Window*\n6 h', '*Now vs expected*\n14 vs 1.2 expected (×11.7)', '*p or z*\np = 3.0e-7',
      '*Authors*\n9', '*Reach*\n1,234,567', '*Top terms*\ncrash, login, &lt;!channel&gt;', '*Top sources*\napp-store 9, vk 5',
      '*Languages*\nen 10, ru 4', '*Tickets*\n3 tickets linked, their alerts held back',
    ]));
    // Slack shows each reader the time in their own zone; the fallback is UTC.
    const seconds = (iso: string) => Date.parse(iso) / 1000;
    expect(fields).toContain(`*Opened*\n<!date^${seconds('2026-11-22T09:40:00Z')}^{date_short_pretty} {time}|2026-11-22 09:40 UTC>`);
    expect(fields).toContain(`*Acknowledged*\nslack:&lt;pat&gt; · <!date^${seconds('2026-11-22T09:50:00Z')}^{date_short_pretty} {time}|2026-11-22 09:50 UTC>`);
    const posts = texts(blocks).find((t) => t.startsWith('*Top posts*'))!;
    expect(posts.split('\n')).toEqual([
      '*Top posts*',
      '• <https://vk.com/wall-1_2?reply=3&amp;thread=4|The app ¦ crashes &lt;script&gt;alert(1)&lt;/script&gt; and &gt; eats money> — Jamie &lt;R&gt; · vk · reach 52,000',
      '• Cannot log in &amp; pay — app-store',
      '• <https://x.example/p%7Cq%3Er|Outage at Acme> — Blog · rss · reach 10',
    ]);
    expect(all).not.toMatch(/<script|<!channel>|<!here>|javascript:/);
    expect(JSON.stringify(blocks)).not.toContain('"actions"');
    expect(await send(body)).toEqual({ ok: true, status: 200 });
    expect(fake.messages).toHaveLength(1);

    const low = renderSlackMessage(incidentEvent('incident.escalated', makeIncident({
      severity: 'warning', scope: 'source:vk', escalation_reason: 'unacknowledged',
      why: { ...makeIncident().why, regime: 'high', p_value: null, z: 5.23, window_minutes: 45, reach: null },
      peak: { observed: 30, expected: 2 },
    })));
    expectWithinLimits(low);
    expect((low.blocks[0] as Block).text!.text).toBe('🟠 Warning incident, escalated · Acme <Bank>');
    const lowText = texts(low.blocks).join('\n');
    expect(lowText).toContain('_Escalated: nobody acknowledged it in time._');
    expect(lowText).toContain('*Window*\n45 min · source:vk');
    expect(lowText).toContain('*p or z*\nz = 5.2');
    expect(lowText).toContain('*Now vs expected*\n14 vs 1.2 expected (×11.7)\npeak 30 vs 2 expected');
    expect(lowText).not.toContain('*Reach*');
  });

  it('renders a resolved incident as a short notice, with no button but the earshot link', () => {
    const incident = makeIncident({
      status: 'resolved', resolved_by: 'detector', resolved_at: '2026-11-22T14:00:00.000Z', resolution_note: 'Calmed <down> & fixed',
    });
    const rendered = renderSlackMessage(incidentEvent('incident.resolved', incident, 'Resolved: Acme'), {
      subject: 'incident:inc_01JD9A', actions: true, openUrl: incident.url,
    });
    expectWithinLimits(rendered);
    const blocks = rendered.blocks as Block[];
    expect(blocks.map((b) => b.type)).toEqual(['header', 'section', 'context', 'actions', 'context']);
    expect(blocks[0]!.text!.text).toBe('✅ Resolved · Acme <Bank>');
    const notice = blocks[1]!.text!.text;
    expect(notice).toMatch(/^\*Resolved\* by detector · <!date\^\d+\^\{date_short_pretty\} \{time\}\|2026-11-22 14:00 UTC>\n/);
    expect(notice).toContain('peak 14 vs 1.2 expected');
    expect(notice).toContain('>Calmed &lt;down&gt; &amp; fixed');
    expect(notice).toContain('Why it opened: negative 6h');
    expect(buttons(blocks)).toEqual([
      { type: 'button', action_id: 'earshot_open', text: { type: 'plain_text', text: 'Open in earshot', emoji: false }, url: 'https://earshot.example/incidents/inc_01JD9A' },
    ]);
  });

  it('offers Acknowledge on an open incident only when presses can be heard', async () => {
    const open = incidentEvent('incident.opened', makeIncident());
    const withActions = renderSlackMessage(open, { subject: 'incident:inc_01JD9A', actions: true, openUrl: 'https://earshot.example/incidents/inc_01JD9A' });
    expectWithinLimits(withActions);
    expect(buttons(withActions.blocks)).toEqual([
      { type: 'button', action_id: 'earshot_ack', text: { type: 'plain_text', text: 'Acknowledge', emoji: false }, value: 'ack|incident:inc_01JD9A', style: 'primary' },
      { type: 'button', action_id: 'earshot_open', text: { type: 'plain_text', text: 'Open in earshot', emoji: false }, url: 'https://earshot.example/incidents/inc_01JD9A' },
    ]);
    // The buttons sit above the footer.
    expect((withActions.blocks as Block[]).slice(-2).map((b) => b.type)).toEqual(['actions', 'context']);
    expect(await send(open, config, { subject: 'incident:inc_01JD9A', actions: true, openUrl: 'https://earshot.example/incidents/inc_01JD9A' }))
      .toEqual({ ok: true, status: 200 });
    expect(buttons(fake.messages[0]!.blocks as unknown[]).map((b) => b.action_id)).toEqual(['earshot_ack', 'earshot_open']);

    expect(buttons(renderSlackMessage(open, { subject: 'incident:inc_01JD9A', actions: false }).blocks)).toEqual([]);
    expect(buttons(renderSlackMessage(open, { subject: null, actions: true }).blocks)).toEqual([]);
    const acked = incidentEvent('incident.updated', makeIncident({ status: 'acknowledged', acknowledged_by: 'slack:pat' }));
    expect(buttons(renderSlackMessage(acked, { subject: 'incident:inc_01JD9A', actions: true }).blocks)).toEqual([]);
    // A subject about something else than the body is no reason for a button.
    expect(buttons(renderSlackMessage(open, { subject: 'ticket:tkt_1', actions: true }).blocks)).toEqual([]);
  });

  it('offers Acknowledge and Not relevant on an open ticket, and the earshot link whenever one is set', () => {
    const body = ticketAlert(makeTicket());
    const rendered = renderSlackMessage(body, { subject: 'ticket:tkt_01JD8Z5K7E', actions: true, openUrl: 'https://earshot.example/tickets/tkt_01JD8Z5K7E?x=1&y=2' });
    expectWithinLimits(rendered);
    expect(buttons(rendered.blocks).map((b) => [b.action_id, b.value ?? b.url])).toEqual([
      ['earshot_ack', 'ack|ticket:tkt_01JD8Z5K7E'],
      ['earshot_not_relevant', 'nr|ticket:tkt_01JD8Z5K7E'],
      ['earshot_open', 'https://earshot.example/tickets/tkt_01JD8Z5K7E?x=1&y=2'],
    ]);
    // The rest of the ticket card is as it was.
    expect(rendered.blocks.filter((b) => (b as Block).type !== 'actions')).toEqual(renderSlackMessage(body).blocks);

    for (const status of ['solved', 'closed', 'spam', 'ignored'] as const) {
      const closed = renderSlackMessage(ticketAlert(makeTicket({ status })), { subject: 'ticket:tkt_01JD8Z5K7E', actions: true });
      expect(buttons(closed.blocks)).toEqual([]);
    }
    const linkOnly = renderSlackMessage(body, { subject: 'ticket:tkt_01JD8Z5K7E', actions: false, openUrl: 'https://earshot.example/t' });
    expect(buttons(linkOnly.blocks).map((b) => b.action_id)).toEqual(['earshot_open']);
    expect(buttons(renderSlackMessage(body, { openUrl: 'javascript:alert(1)' }).blocks)).toEqual([]);
    expect(buttons(renderSlackMessage(body, { openUrl: null }).blocks)).toEqual([]);
  });

  it('renders a digest: each brand in a line, the incidents, what was held', async () => {
    const body = digestEvent(makeDigest());
    const rendered = renderSlackMessage(body, { openUrl: 'https://earshot.example/' });
    expectWithinLimits(rendered);
    expect((rendered.blocks[0] as Block)).toMatchObject({ type: 'header', text: { text: 'Daily digest for alerts-slack' } });
    const all = texts(rendered.blocks).join('\n');
    expect(all).toMatch(/\*Period:\* <!date\^\d+\^\{date_short_pretty\} \{time\}\|2026-11-21 06:00 UTC> – <!date\^\d+\^[^>]+> \(Europe\/Moscow\)/);
    expect(all).toContain('*Brands*\n*Acme &lt;Bank&gt;*: 1,204 mentions, 87 negative · tickets 12 opened, 9 solved, 5 open, 1 SLA breached · 1 incident\n'
      + '*Zeta &amp; Co*: 1 mention, 0 negative · tickets 0 opened, 0 solved, 0 open, 0 SLA breached · 0 incidents');
    expect(all).toContain('*Incidents*\n• 🔴 Critical · acme · resolved — negative 6h: 14 vs expected 1.2 &lt;b&gt;');
    expect(all).toContain('4 alerts held during quiet hours');
    expect(buttons(rendered.blocks).map((b) => b.action_id)).toEqual(['earshot_open']);
    expect(await send(body)).toEqual({ ok: true, status: 200 });

    const quiet = renderSlackMessage(digestEvent(makeDigest({ brands: [], incidents: [], held: 0 })));
    expectWithinLimits(quiet);
    expect(texts(quiet.blocks).join('\n')).toContain('No brand was heard in this period.');
    expect(texts(quiet.blocks).join('\n')).not.toContain('held');
  });

  it('keeps a huge incident or digest within every limit, the whole message included', async () => {
    const long = '&<>|'.repeat(3000);
    const incident = makeIncident({
      brand_name: long, scope: `source:${long}`, acknowledged_by: long, acknowledged_at: NOW.toISOString(), resolution_note: long,
      why: { ...makeIncident().why, summary: long },
      top_terms: Array.from({ length: 200 }, () => long.slice(0, 300)),
      top_sources: Array.from({ length: 50 }, (_, i) => ({ source: `${long.slice(0, 500)}${i}`, count: i })),
      languages: Array.from({ length: 50 }, () => ({ language: long.slice(0, 500), count: 1 })),
      top_posts: Array.from({ length: 10 }, () => ({ mention_id: null, url: `https://x.example/${'a'.repeat(5000)}`, source: long, author: long, reach: 1, published_at: null, excerpt: long })),
    });
    for (const type of ['incident.opened', 'incident.escalated', 'incident.updated', 'incident.resolved'] as const) {
      const rendered = renderSlackMessage(incidentEvent(type, incident, long), { subject: 'incident:inc_01JD9A', actions: true, openUrl: 'https://earshot.example/i' });
      expectWithinLimits(rendered);
      expect(JSON.stringify(rendered.blocks).length).toBeLessThanOrEqual(SLACK_LIMITS.totalChars);
      expect((rendered.blocks[0] as Block).type).toBe('header');
      // The buttons and the footer survive every cut.
      expect((rendered.blocks as Block[]).slice(-1)[0]!.type).toBe('context');
      expect(buttons(rendered.blocks).map((b) => b.action_id)).toEqual(type === 'incident.resolved' ? ['earshot_open'] : ['earshot_ack', 'earshot_open']);
      expect(await send(incidentEvent(type, incident, long))).toEqual({ ok: true, status: 200 });
    }

    const many = makeDigest({
      brands: Array.from({ length: 300 }, (_, i) => ({ ...makeDigest().brands[0]!, brand: `b${i}`, name: `${long.slice(0, 400)}${i}` })),
      incidents: Array.from({ length: 100 }, () => ({ ...makeDigest().incidents[0]!, summary: long })),
    });
    const digest = renderSlackMessage(digestEvent(many));
    expectWithinLimits(digest);
    expect(JSON.stringify(digest.blocks).length).toBeLessThanOrEqual(SLACK_LIMITS.totalChars);
    expect(texts(digest.blocks).join('\n')).toMatch(/_…and \d+ more_/);
    expect(await send(digestEvent(many))).toEqual({ ok: true, status: 200 });
  });

  it('answers a press with a note only the presser sees, through its response_url, never naming that url in an error', async () => {
    const press = { kind: 'ack' as const, subject: 'incident:12', by: 'slack:jamie', replyTo: fake.responseUrl };
    await answerSlackAction(press, 'Acknowledged', CTX);
    expect(fake.replacements).toEqual([{ text: 'Acknowledged', blocks: undefined, replaceOriginal: false }]);
    expect(fake.messages).toHaveLength(0);
    // No response_url: nothing to answer.
    await answerSlackAction({ ...press, replyTo: null }, 'Acknowledged', CTX);
    expect(fake.replacements).toHaveLength(1);

    fake.answerNext(404, 'expired_url');
    const expired = await answerSlackAction(press, 'Acknowledged', CTX).then(() => null, (err: Error) => err.message);
    expect(expired).toBe('slack: could not answer the button press: HTTP 404: expired_url');
    const closed = await startSlackFake();
    await closed.close();
    const unreachable = await answerSlackAction({ ...press, replyTo: closed.responseUrl }, 'Acknowledged', CTX).then(() => null, (err: Error) => err.message);
    expect(unreachable).toMatch(/^slack: could not answer the button press/);
    expect(unreachable).not.toContain(SLACK_FAKE_RESPONSE_PATH);
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
    const button = (extra: Record<string, unknown>) => ({ type: 'button', action_id: 'a', text: { type: 'plain_text', text: 'Go' }, value: 'v', ...extra });
    const actions = (...elements: unknown[]) => ({ text: 'x', blocks: [{ type: 'actions', elements }] });
    expect(await post(actions(button({ text: { type: 'plain_text', text: 'b'.repeat(76) } })))).toEqual([400, 'invalid_blocks']);
    expect(await post(actions(button({}), button({})))).toEqual([400, 'invalid_blocks']);
    expect(await post(actions(button({ url: 'javascript:x' })))).toEqual([400, 'invalid_blocks']);
    expect(await post(actions(button({ style: 'loud' })))).toEqual([400, 'invalid_blocks']);
    expect(await post(actions())).toEqual([400, 'invalid_blocks']);
    const many = Array.from({ length: 5 }, () => ({ type: 'section', text: { type: 'mrkdwn', text: 's'.repeat(2900) } }));
    expect(await post({ text: 'x', blocks: many })).toEqual([400, 'invalid_blocks']);
    expect(fake.problems.slice(-6)).toEqual([
      'block 0: button text', 'block 0: action_id not unique', 'block 0: button url', 'block 0: button style', 'block 0: actions elements',
      'blocks over 13000 characters in all',
    ]);
    expect(await post(actions(button({}), button({ action_id: 'b', url: 'https://x.example', value: undefined })))).toEqual([200, 'ok']);
    expect(await post({ text: 'x' })).toEqual([200, 'ok']);
  });
});

describe('slack button presses', () => {
  const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
  const signed = slackConfigSchema.parse({ id: 'alerts-slack', type: 'slack', url: 'https://hooks.slack.com/services/T0/B0/x', signingSecret: SECRET });
  const press = (payload: unknown, opts: { secret?: string; at?: Date | number } = {}) =>
    signSlackRequest(opts.secret ?? SECRET, slackInteractionBody(payload), opts.at ?? NOW);
  const receive = (request: { headers: Record<string, string | string[] | undefined>; rawBody: string }, cfg: SlackConfig = signed) =>
    receiveSlackAction(cfg, request, { now: NOW });

  it('reads the pressed buttons of a signed block_actions payload', () => {
    const result = receive(press(blockActionsPayload({ values: ['ack|incident:inc_01JD9A', 'nr|ticket:tkt_01JD8Z5K7E', undefined, 'rm|everything'] })));
    expect(result).toEqual({
      ok: true,
      actions: [
        { kind: 'ack', subject: 'incident:inc_01JD9A', by: 'slack:jamie', replyTo: `https://hooks.slack.com${SLACK_FAKE_RESPONSE_PATH}` },
        { kind: 'not_relevant', subject: 'ticket:tkt_01JD8Z5K7E', by: 'slack:jamie', replyTo: `https://hooks.slack.com${SLACK_FAKE_RESPONSE_PATH}` },
      ],
    });
    expect(slackConnector.receiveAction!(signed, press(blockActionsPayload({ values: ['ack|ticket:t1'] })), { now: NOW })).toMatchObject({ ok: true });

    // Who pressed: the username, else the name, else the id; no response_url, no reply.
    const byName = receive(press(blockActionsPayload({ values: ['ack|ticket:t1'], user: { id: 'U0X', name: 'pat' }, responseUrl: null })));
    expect(byName).toEqual({ ok: true, actions: [{ kind: 'ack', subject: 'ticket:t1', by: 'slack:pat', replyTo: null }] });
    const byId = receive(press(blockActionsPayload({ values: ['ack|ticket:t1'], user: { id: 'U0X' } })));
    expect(byId).toMatchObject({ ok: true, actions: [{ by: 'slack:U0X' }] });

    // A press the clock allows, a little off either way; the headers as arrays too.
    expect(receive(press(blockActionsPayload({ values: ['ack|ticket:t1'] }), { at: new Date(NOW.getTime() - 299_000) }))).toMatchObject({ ok: true });
    const request = press(blockActionsPayload({ values: ['ack|ticket:t1'] }), { at: new Date(NOW.getTime() + 60_000) });
    expect(receive({ ...request, headers: Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, [v]])) })).toMatchObject({ ok: true });
  });

  it('answers other interactions with an empty 200 and nothing to do', () => {
    expect(receive(press({ type: 'view_submission', user: { id: 'U0X' } }))).toEqual({ ok: true, actions: [] });
    expect(receive(press({ type: 'shortcut' }))).toEqual({ ok: true, actions: [] });
    expect(receive(press(blockActionsPayload({ values: [undefined] })))).toEqual({ ok: true, actions: [] });
  });

  it('refuses a press it cannot verify, with a 401 that never names the secret', () => {
    const good = press(blockActionsPayload({ values: ['ack|ticket:t1'] }));
    const results = [
      receive(press(blockActionsPayload({ values: ['ack|ticket:t1'] }), { secret: 'not-the-secret' })),
      receive({ ...good, rawBody: good.rawBody.replace('t1', 't2') }),
      receive(press(blockActionsPayload({ values: ['ack|ticket:t1'] }), { at: new Date(NOW.getTime() - 301_000) })),
      receive(press(blockActionsPayload({ values: ['ack|ticket:t1'] }), { at: new Date(NOW.getTime() + 301_000) })),
      receive({ ...good, headers: { ...good.headers, 'x-slack-request-timestamp': 'yesterday' } }),
      receive({ ...good, headers: { 'x-slack-request-timestamp': good.headers['x-slack-request-timestamp'] } }),
      receive({ ...good, headers: { 'x-slack-signature': good.headers['x-slack-signature'] } }),
      receive({ ...good, headers: { ...good.headers, 'x-slack-signature': `v0=${'0'.repeat(64)}` } }),
    ];
    expect(results.map((r) => r.ok === false && r.status)).toEqual([401, 401, 401, 401, 401, 401, 401, 401]);
    expect(results.map((r) => !r.ok && r.error)).toEqual([
      "bad X-Slack-Signature: is signingSecret the Slack app's Signing Secret?",
      "bad X-Slack-Signature: is signingSecret the Slack app's Signing Secret?",
      'X-Slack-Request-Timestamp is more than 5 minutes away',
      'X-Slack-Request-Timestamp is more than 5 minutes away',
      'X-Slack-Request-Timestamp is more than 5 minutes away',
      'missing X-Slack-Signature or X-Slack-Request-Timestamp header',
      'missing X-Slack-Signature or X-Slack-Request-Timestamp header',
      "bad X-Slack-Signature: is signingSecret the Slack app's Signing Secret?",
    ]);

    const unsigned = slackConfigSchema.parse({ id: 'plain', type: 'slack', url: 'https://hooks.slack.com/services/T0/B0/x' });
    const noSecret = receive(good, unsigned);
    expect(noSecret).toEqual({ ok: false, status: 401, error: 'this channel has no signingSecret: Slack button presses cannot be verified' });
    for (const r of [...results, noSecret]) expect(JSON.stringify(r)).not.toContain(SECRET);
  });

  it('refuses a signed body that is not an interaction with a 400', () => {
    const malformed = [
      press({ type: 'block_actions' }),
      press({ type: 'block_actions', user: { id: 'U0X' }, actions: 'ack' }),
      press({ no: 'type' }),
      press('just a string'),
      signSlackRequest(SECRET, 'payload=%7Bnot-json', NOW),
      signSlackRequest(SECRET, 'command=%2Fearshot&text=ack', NOW),
      signSlackRequest(SECRET, '', NOW),
    ];
    for (const request of malformed) {
      const result = receive(request);
      expect(result).toMatchObject({ ok: false, status: 400 });
      expect(JSON.stringify(result)).not.toContain(SECRET);
    }
  });
});
