import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DigestDocument, DigestEvent, IncidentDocument, IncidentEvent, IncidentEventType } from '../../documents/incident.ts';
import type { MentionDocument } from '../../documents/mention.ts';
import type { TicketDocument, TicketEvent } from '../../documents/ticket.ts';
import { isSecretSchema } from '../../lib/secret.ts';
import { startSmtpFake, type SmtpFake } from '../../tests/helpers/smtp-fake.ts';
import {
  emailConfigSchema, emailConnector, parseMailbox, readSmtpUrl, renderEmail, smtpTransportOptions, type EmailConfig, type SmtpServer,
} from './email.ts';
import type { ChannelMessage, DeliveryOutcome, SendContext } from './types.ts';

const NOW = new Date('2026-12-03T14:20:00Z');
const CTX: SendContext = { now: NOW, timeoutMs: 2000 };
const USER = 'alerts@example.com';
// Every character that must be percent-encoded in a URL's user info, and one that is not ASCII.
const PASSWORD = 's3cr:t/p@ss#Жq%7';

// Documents, built the way documents/*.ts shape them.

const mention: MentionDocument = {
  id: '88123', source: '2gis', external_id: '2gis:review:5f1c9e0a', brand: 'acme', brands: ['acme'], target_id: '70000001012345678',
  url: 'https://2gis.ru/moscow/firm/70000001012345678/tab/reviews?review=5f1c9e0a&x=1',
  author: { name: 'Анна К.', handle: 'anna_k', id: '4403119', url: null, followers: 37 },
  title: 'Холодная <пицца>',
  text: 'Заказали доставку к 19:00, привезли в 22:40 <холодное>.\nКурьер нахамил.\n\nНа звонки не отвечают & «поддержка» молчит. <script>alert(1)</script> 1 < 2',
  rating: 1, published_at: '2026-12-03T08:41:00.000Z', first_seen_at: '2026-12-03T09:00:00.000Z', updated_at: '2026-12-03T09:00:00.000Z',
  lang: 'ru', sentiment: { label: 'negative', score: -0.93, model: 'rubert-tiny2', confidence: 0.96, low_confidence: false, reason: null },
  actionable: true, action_reasons: ['complaint'], cluster: null, corrected: { sentiment: false, actionable: false }, metrics: {}, reply: null,
  answered: false, details: {},
};

const ticket: TicketDocument = {
  id: '1042', seq: '5001', version: 1, status: 'new', status_reason: null, priority: 'high', team: 'support', assignee: null,
  title: 'Anna K.: <b>cold</b> pizza & rude courier', brand: 'Acme', routed_by: null,
  created_at: '2026-12-03T09:00:05.000Z', updated_at: '2026-12-03T09:00:05.000Z', first_response_at: null, solved_at: null,
  first_response_due_at: '2026-12-03T13:00:05.000Z', resolution_due_at: '2026-12-05T09:00:05.000Z', sla_paused: false,
  breached: false, breaches: [], mention, cluster: null, external: [], deliveries: [],
};

function ticketEvent(type: TicketEvent['type'] = 'ticket.created', over: { mention?: Partial<MentionDocument> } = {}): Record<string, unknown> {
  const event: TicketEvent = {
    type,
    timestamp: NOW.toISOString(),
    data: {
      ticket: { ...ticket, mention: { ...mention, ...over.mention } },
      change: null,
      alert: { kind: 'ticket_created', summary: `New ticket for Acme, team support: ${ticket.title}` },
    },
  };
  return event as unknown as Record<string, unknown>;
}

const incident: IncidentDocument = {
  id: '12', brand: 'acme', brand_name: 'Acme <Foods>', scope: 'all', severity: 'warning', status: 'open',
  opened_at: '2026-12-03T14:05:00.000Z', escalated_at: null, escalation_reason: null, acknowledged_at: null, acknowledged_by: null,
  resolved_at: null, resolved_by: null, resolution_note: null,
  why: {
    summary: 'negative 15m: 14 vs expected 2.1 (p=3e-7), 9 authors', rules: ['nb_tail', 'high_reach'], regime: 'low', window_minutes: 15,
    observed: 14, expected: 2.1, lift: 6.7, p_value: 3e-7, z: null, authors: 9, reach: 120000,
  },
  peak: { observed: 14, expected: 2.1 },
  top_terms: ['доставка', 'холодная', 'курьер'],
  top_sources: [{ source: '2gis', count: 9 }, { source: 'telegram', count: 5 }],
  languages: [{ language: 'ru', count: 12 }, { language: 'en', count: 2 }],
  top_posts: [
    { mention_id: '1', url: 'https://t.me/foodnews/5512', source: 'telegram', author: '@foodnews', reach: 80000, published_at: '2026-12-03T14:01:00.000Z', excerpt: 'Acme pizza <again> cold & late' },
    { mention_id: '2', url: 'javascript:alert(1)', source: 'vk', author: 'Иван', reach: 30000, published_at: null, excerpt: 'Never ordering again' },
    { mention_id: '3', url: null, source: '2gis', author: null, reach: null, published_at: null, excerpt: 'x'.repeat(1000) },
  ],
  tickets: 3, url: null,
};

function incidentEvent(type: IncidentEventType, over: Partial<IncidentDocument> = {}, summary = 'Crisis at Acme'): Record<string, unknown> {
  const event: IncidentEvent = {
    type, timestamp: NOW.toISOString(), data: { incident: { ...incident, ...over }, alert: { kind: type.replace('.', '_'), summary } },
  };
  return event as unknown as Record<string, unknown>;
}

const digest: DigestDocument = {
  channel: 'email-ops', period_start: '2026-12-02T06:00:00.000Z', period_end: '2026-12-03T06:00:00.000Z', time_zone: 'Europe/Moscow',
  brands: [
    { brand: 'acme', name: 'Acme <Foods>', mentions: 1240, negative: 87, tickets_opened: 12, tickets_solved: 9, tickets_open: 5, sla_breached: 1, incidents: 1 },
    { brand: 'beta', name: 'Beta & Co', mentions: 40, negative: 2, tickets_opened: 0, tickets_solved: 1, tickets_open: 0, sla_breached: 0, incidents: 0 },
  ],
  incidents: [{ id: '12', brand: 'acme', severity: 'critical', status: 'resolved', summary: 'negative 15m: 27 vs 6.1 expected' }],
  held: 4,
};

const digestEvent: DigestEvent = {
  type: 'digest', timestamp: '2026-12-03T06:00:00.000Z', data: { digest, alert: { kind: 'digest', summary: 'Acme: 1,240 mentions, 87 negative' } },
};

const targetAlert = {
  type: 'target.failing', timestamp: NOW.toISOString(),
  data: {
    target: { id: 'yandex-maps-1', source: 'yandex_maps', brand: 'Acme', state: 'blocked', last_success_at: null, last_error: 'HTTP 403 <captcha> & co', consecutive_errors: 4 },
    alert: { kind: 'target_failing', summary: 'yandex_maps target "yandex-maps-1" (Acme) is blocked: 4 failed crawl(s)' },
  },
};

const destinationAlert = {
  type: 'destination.failing', timestamp: NOW.toISOString(),
  data: {
    destination: { kind: 'helpdesk', id: 'usedesk-main' }, failing_since: '2026-12-03T09:30:00.000Z', consecutive_failures: 5, last_status: 503,
    last_error: 'usedesk create/ticket: HTTP 503: <html>',
    alert: { kind: 'destination_failing', summary: 'helpdesk "usedesk-main" is failing: 5 failed delivery attempts in a row' },
  },
};

function message(body: Record<string, unknown>, over: Partial<ChannelMessage> = {}): ChannelMessage {
  return { messageId: 'msg_1', body, subject: null, card: null, openUrl: null, actions: false, ...over };
}

function configFor(smtp: string, over: Partial<EmailConfig> = {}): EmailConfig {
  return emailConfigSchema.parse({
    id: 'email-ops', type: 'email', smtp, from: 'earshot <alerts@example.com>', to: ['pr@example.com', 'Ops Team <ops@example.org>'], ...over,
  });
}

function send(config: EmailConfig, msg: ChannelMessage, ctx = CTX): Promise<DeliveryOutcome> {
  return emailConnector.sendMessage!(config, msg, ctx);
}

function expectNoPassword(outcome: DeliveryOutcome): void {
  const all = JSON.stringify(outcome);
  for (const form of [PASSWORD, encodeURIComponent(PASSWORD), Buffer.from(PASSWORD).toString('base64'), 's3cr']) {
    expect(all).not.toContain(form);
  }
}

describe('emailConfigSchema', () => {
  const base = { id: 'email-ops', type: 'email', smtp: 'smtps://alerts%40example.com:pw@smtp.yandex.ru', from: 'alerts@example.com', to: ['pr@example.com'] };

  it('takes smtp and smtps URLs, a named or bare from, and defaults the subject prefix', () => {
    const parsed = emailConfigSchema.parse(base);
    expect(parsed.subjectPrefix).toBe('[earshot]');
    expect(readSmtpUrl(parsed.smtp)).toEqual({ secure: true, host: 'smtp.yandex.ru', port: 465, user: 'alerts@example.com', pass: 'pw' });
    expect(readSmtpUrl('smtp://relay.internal.example:2525')).toEqual({ secure: false, host: 'relay.internal.example', port: 2525, user: null, pass: null });
    expect(readSmtpUrl('smtp://u:p@[::1]')).toMatchObject({ host: '::1', port: 587 });
    for (const from of ['earshot <alerts@example.com>', '"earshot, alerts" <alerts@example.com>', 'Алерты <почта@пример.рф>']) {
      expect(emailConfigSchema.safeParse({ ...base, from }).success, from).toBe(true);
    }
    expect(parseMailbox('Алерты <почта@пример.рф>')).toEqual({ name: 'Алерты', address: 'почта@пример.рф', domain: 'xn--e1afmkfd.xn--p1ai' });
    expect(emailConfigSchema.parse({ ...base, subjectPrefix: '' }).subjectPrefix).toBe('');
  });

  it('marks the SMTP URL secret, so a redacted config hides it', () => {
    expect(isSecretSchema(emailConfigSchema.shape.smtp)).toBe(true);
    expect(isSecretSchema(emailConfigSchema.shape.from)).toBe(false);
  });

  it('says what is wrong with the SMTP URL and never echoes it', () => {
    const cases: [string, RegExp][] = [
      [`https://alerts:${PASSWORD}@smtp.example.com`, /must start with smtps:\/\/ .* or smtp:\/\//],
      [`alerts:${PASSWORD}@smtp.example.com`, /must start with smtps:\/\//],
      ['smtps://alerts:pw@', /names no host|not a valid URL/],
      ['smtps://alerts:pw@smtp.example.com/inbox', /without a path, query or fragment/],
      // "#" starts a fragment, so the URL ends inside the password: either way the message says to percent-encode.
      ['smtps://alerts:p#w@smtp.example.com', /percent-encode/],
      ['smtps://alerts:pw@smtp.example.com?tls=off', /without a path, query or fragment/],
      ['smtps://alerts@smtp.example.com', /user without a password/],
      ['smtps://alerts:pw@smtp.example.com:99999', /not a valid URL|port/],
      ['smtps://alerts:p%zzw@smtp.example.com', /malformed %-escape|not a valid URL/],
      ['smtps://alerts:pw@smtp_bad!.example.com', /host|not a valid URL/],
    ];
    for (const [smtp, expected] of cases) {
      const result = emailConfigSchema.safeParse({ ...base, smtp });
      expect(result.success, smtp).toBe(false);
      const issue = result.error!.issues.find((i) => i.path[0] === 'smtp');
      expect(issue?.message, smtp).toMatch(expected);
      expect(JSON.stringify(result.error), smtp).not.toContain(PASSWORD);
      expect(JSON.stringify(result.error), smtp).not.toContain('pw@');
    }
  });

  it('checks the addresses: a mailbox form, 1 to 35 recipients, none twice, no unknown fields', () => {
    const problem = (over: Record<string, unknown>) => {
      const result = emailConfigSchema.safeParse({ ...base, ...over });
      expect(result.success, JSON.stringify(over)).toBe(false);
      return result.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    };
    expect(problem({ from: 'earshot' })).toMatch(/^from: must be an address, optionally with a name/);
    expect(problem({ from: 'earshot <alerts@localhost>' })).toMatch(/^from: must be an address/);
    expect(problem({ from: 'a\nb <alerts@example.com>' })).toMatch(/^from: must be an address/);
    expect(problem({ to: [] })).toMatch(/^to: needs at least one address/);
    expect(problem({ to: Array.from({ length: 36 }, (_, i) => `user${i}@example.com`) })).toMatch(/at most 35 addresses \(Yandex Mail/);
    expect(emailConfigSchema.safeParse({ ...base, to: Array.from({ length: 35 }, (_, i) => `user${i}@example.com`) }).success).toBe(true);
    expect(problem({ to: ['pr@example.com', 'PR <PR@example.com>'] })).toBe('to.1: lists pr@example.com twice');
    expect(problem({ to: ['pr@example.com', 'not an address'] })).toMatch(/^to\.1: must be an address/);
    expect(problem({ subjectPrefix: '[a]\n' })).toMatch(/subjectPrefix: must be one line/);
    expect(problem({ cc: ['x@example.com'] })).toMatch(/cc|Unrecognized/);
    expect(problem({ id: 'Email Ops' })).toMatch(/^id:/);
  });
});

describe('the email connector', () => {
  it('is paced a mail a second and sends no card refreshes', () => {
    expect(emailConnector.type).toBe('email');
    expect(emailConnector.minIntervalMs!(configFor('smtp://127.0.0.1:25'))).toBe(1000);
    expect(emailConnector.cardUpdates).toBeUndefined();
  });

  it('asks a plain smtp:// server for STARTTLS before it logs in, except on this machine', () => {
    const options = (url: string) => smtpTransportOptions(readSmtpUrl(url) as SmtpServer, 1500);
    expect(options('smtp://u:p@smtp.example.com')).toMatchObject({ secure: false, port: 587, requireTLS: true, auth: { user: 'u', pass: 'p' } });
    expect(options('smtps://u:p@smtp.example.com')).toMatchObject({ secure: true, port: 465, requireTLS: false });
    expect(options('smtp://relay.example.com:25')).toMatchObject({ requireTLS: false, auth: undefined });
    expect(options('smtp://u:p@127.0.0.1:2525')).toMatchObject({ requireTLS: false });
    expect(options('smtp://u:p@smtp.example.com')).toMatchObject({
      connectionTimeout: 1500, greetingTimeout: 1500, socketTimeout: 1500, logger: false, debug: false,
    });
  });
});

describe('email over SMTP', () => {
  let smtp: SmtpFake;
  let config: EmailConfig;

  beforeAll(async () => {
    smtp = await startSmtpFake();
    config = configFor(smtp.url());
  });
  afterAll(() => smtp.close());
  beforeEach(() => {
    smtp.messages.length = 0;
    smtp.refused.length = 0;
    smtp.failNext(0, 250);
  });

  it('sends a ticket alert with a text and an HTML part, the user text escaped and cut to an excerpt', async () => {
    const long = `${mention.text}\n\n${'Очень долго ждали. '.repeat(200)}THE-END`;
    const outcome = await send(
      config,
      message(ticketEvent('ticket.created', { mention: { text: long } }), { subject: 'ticket:1042', openUrl: 'https://earshot.example.com/tickets/1042' }),
    );
    expect(outcome).toEqual({ ok: true, status: 250, externalId: '<ticket.1042.email-ops@example.com>' });
    expect(smtp.messages).toHaveLength(1);
    const mail = smtp.messages[0]!;
    expect(mail.envelope).toEqual({ from: 'alerts@example.com', to: ['pr@example.com', 'ops@example.org'] });
    expect(mail.from).toBe('alerts@example.com');
    expect(mail.to).toEqual(['pr@example.com', 'ops@example.org']);
    expect(mail.subject).toBe('[earshot] New ticket · Acme · team support: Anna K.: <b>cold</b> pizza & rude courier');
    expect(mail.messageId).toBe('<ticket.1042.email-ops@example.com>');
    expect(mail.inReplyTo).toBeNull();
    expect(mail.headers.get('x-earshot-event')).toBe('ticket.created');
    expect(mail.headers.get('auto-submitted')).toBe('auto-generated');
    expect(mail.headers.get('date')).toEqual(NOW);

    const text = mail.text!;
    expect(text).toContain('NEW TICKET');
    expect(text).toContain('New ticket for Acme, team support: Anna K.: <b>cold</b> pizza & rude courier');
    expect(text).toMatch(/Author: +Анна К\. @anna_k \(37 followers\)/);
    expect(text).toMatch(/Rating: +★☆☆☆☆ \(1\/5\)/);
    expect(text).toContain('> Холодная <пицца>');
    expect(text).toContain('> Заказали доставку к 19:00, привезли в 22:40 <холодное>.');
    expect(text).not.toContain('THE-END');
    expect(text).toContain('…');
    expect(text).toContain(`Open on 2gis: ${mention.url}`);
    expect(text).toContain('Open in earshot: https://earshot.example.com/tickets/1042');

    const html = mail.html!;
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<холодное>');
    expect(html).not.toContain('<b>cold</b>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; 1 &lt; 2');
    expect(html).toContain('&lt;холодное&gt;');
    expect(html).toContain('Anna K.: &lt;b&gt;cold&lt;/b&gt; pizza &amp; rude courier');
    expect(html).not.toContain('THE-END');
    expect(html).toContain(`<a href="${mention.url!.replace('&', '&amp;')}" style="color:#0969da">Open on 2gis</a>`);
    expect(html).toMatch(/<a href="https:\/\/earshot\.example\.com\/tickets\/1042"[^>]*>Open in earshot<\/a>/);
  });

  it('never links a source URL that is not http(s)', async () => {
    await send(config, message(ticketEvent('ticket.created', { mention: { url: 'javascript:alert(1)' } })));
    const mail = smtp.messages[0]!;
    expect(mail.html).not.toContain('javascript:');
    expect(mail.text).not.toContain('javascript:');
    expect(mail.html).not.toContain('Open in earshot');
  });

  it('threads an incident: opened, escalated and resolved answer the first mail under one subject', async () => {
    const subject = 'incident:12';
    const opened = await send(config, message(incidentEvent('incident.opened'), { messageId: 'msg_incident_12_opened_channel_email-ops', subject }));
    expect(opened).toMatchObject({ ok: true, status: 250, externalId: '<incident.12.email-ops@example.com>' });
    const card = (opened as { externalId: string }).externalId;

    const escalatedIncident = {
      severity: 'critical' as const, escalated_at: '2026-12-03T14:20:00.000Z', escalation_reason: 'severity' as const,
      why: { ...incident.why, observed: 27, expected: 6.1, lift: 4.4, summary: 'negative 15m: 27 vs expected 6.1 (p=1e-9)' },
      peak: { observed: 27, expected: 6.1 },
    };
    const escalated = await send(
      config,
      message(incidentEvent('incident.escalated', escalatedIncident, 'Acme crisis is critical now'), {
        messageId: 'msg_incident_12_escalated_channel_email-ops', subject, card, openUrl: 'https://earshot.example.com/incidents/12',
      }),
    );
    expect(escalated).toMatchObject({ ok: true, externalId: card });
    const resolved = await send(
      config,
      message(
        incidentEvent('incident.resolved', {
          ...escalatedIncident, status: 'resolved', acknowledged_at: '2026-12-03T14:30:00.000Z', acknowledged_by: 'telegram:@maria',
          resolved_at: '2026-12-03T16:00:00.000Z', resolved_by: 'detector', resolution_note: 'talk calmed <down>',
        }, 'Acme crisis resolved'),
        { messageId: 'msg_incident_12_resolved_channel_email-ops', subject, card },
      ),
    );
    expect(resolved).toMatchObject({ ok: true, externalId: card });

    const [first, second, third] = smtp.messages;
    const base = '[earshot] CRISIS · Acme <Foods>: negative spike since 2026-12-03 14:05 UTC';
    expect(first!.subject).toBe(base);
    expect(second!.subject).toBe(`Re: ${base}`);
    expect(third!.subject).toBe(`Re: ${base}`);
    expect(first!.messageId).toBe(card);
    expect(first!.references).toEqual([]);
    for (const reply of [second!, third!]) {
      expect(reply.inReplyTo).toBe(card);
      expect(reply.references).toEqual([card]);
    }
    expect(second!.messageId).toBe('<msg_incident_12_escalated_channel_email-ops@example.com>');
    expect(third!.messageId).toBe('<msg_incident_12_resolved_channel_email-ops@example.com>');
    expect(second!.headers.get('x-earshot-severity')).toBe('critical');
    expect(second!.headers.get('x-earshot-incident')).toBe('12');

    // The first mail explains itself.
    const text = first!.text!;
    expect(text).toContain('CRISIS OPENED · WARNING');
    expect(text).toMatch(/Severity: +warning/);
    expect(text).toMatch(/Status: +open/);
    expect(text).toMatch(/Now vs expected: +14 vs 2\.1 expected \(×6\.7\)/);
    expect(text).toMatch(/Window: +15 min/);
    expect(text).toMatch(/Significance: +p = 3\.0e-7/);
    expect(text).toMatch(/Authors: +9/);
    expect(text).toMatch(/Reach: +120,000/);
    expect(text).toMatch(/Acknowledged: +not yet/);
    expect(text).toMatch(/Top terms: +доставка, холодная, курьер/);
    expect(text).toMatch(/Top sources: +2gis 9 · telegram 5/);
    expect(text).toMatch(/Languages: +ru 86% \(12\) · en 14% \(2\)/);
    expect(text).toContain('1. telegram · @foodnews · reach 80,000 · 2026-12-03 14:01 UTC');
    expect(text).toContain('Open on telegram: https://t.me/foodnews/5512');
    expect(text).not.toContain('x'.repeat(300));
    const html = first!.html!;
    expect(html).toContain('Acme &lt;Foods&gt;');
    expect(html).toContain('Acme pizza &lt;again&gt; cold &amp; late');
    expect(html).toContain('<a href="https://t.me/foodnews/5512">Open on telegram</a>');
    expect(html).not.toContain('javascript:');
    expect(html.match(/<li /g)).toHaveLength(3);

    expect(second!.text).toContain('CRISIS ESCALATED · CRITICAL');
    expect(second!.text).toContain('Acme crisis is critical now');
    expect(second!.text).toMatch(/Now vs expected: +27 vs 6\.1 expected/);
    expect(second!.text).toMatch(/Escalated: +2026-12-03 14:20 UTC \(became critical\)/);
    expect(second!.text).toContain('Open in earshot: https://earshot.example.com/incidents/12');
    expect(third!.text).toMatch(/Acknowledged: +by telegram:@maria at 2026-12-03 14:30 UTC/);
    expect(third!.text).toMatch(/Resolved: +by detector at 2026-12-03 16:00 UTC/);
    expect(third!.html).toContain('talk calmed &lt;down&gt;');
  });

  it('starts the thread again from the subject when the card is unknown, and gives a resend the same Message-ID', async () => {
    const subject = 'incident:12';
    const msg = message(incidentEvent('incident.escalated', { severity: 'critical' }), { messageId: 'msg_incident_12_escalated_channel_email-ops', subject });
    const first = await send(config, msg);
    const again = await send(config, msg);
    expect(first).toMatchObject({ ok: true, externalId: '<incident.12.email-ops@example.com>' });
    expect(again).toEqual(first);
    expect(smtp.messages.map((m) => m.messageId)).toEqual(['<incident.12.email-ops@example.com>', '<incident.12.email-ops@example.com>']);
    // A reply sent twice is recognisable too.
    const reply = { ...msg, card: '<incident.12.email-ops@example.com>' };
    await send(config, reply);
    await send(config, reply);
    expect(smtp.messages[2]!.messageId).toBe(smtp.messages[3]!.messageId);
    // A card that is not a Message-ID (left by another kind of channel) starts a new thread instead of a broken reply.
    const odd = await send(config, { ...msg, card: '4711' });
    expect(odd).toMatchObject({ ok: true, externalId: '<incident.12.email-ops@example.com>' });
    expect(smtp.messages[4]!.inReplyTo).toBeNull();
  });

  it('names a mail of its own after what happened, with the numbers in the subject', async () => {
    const outcome = await send(
      config,
      message(incidentEvent('incident.escalated', { severity: 'critical', why: { ...incident.why, observed: 27, expected: 6.1 } }), { messageId: 'msg_x' }),
    );
    expect(outcome).toMatchObject({ ok: true, externalId: '<msg_x@example.com>' });
    expect(smtp.messages[0]!.subject).toBe('[earshot] CRISIS critical · Acme <Foods>: negative in 15 min: 27 vs 6.1 expected');
  });

  it('renders a daily digest with its brands, incidents and held alerts', async () => {
    const outcome = await send(config, message(digestEvent as unknown as Record<string, unknown>, { messageId: 'msg_digest_email-ops_2026-12-03' }));
    expect(outcome).toMatchObject({ ok: true, status: 250 });
    const mail = smtp.messages[0]!;
    expect(mail.subject).toBe('[earshot] Daily digest · 2026-12-03');
    expect(mail.text).toMatch(/Period: +2026-12-02 09:00 – 2026-12-03 09:00 \(Europe\/Moscow\)/);
    expect(mail.text).toContain('Acme <Foods>: mentions 1,240, negative 87, tickets opened 12, solved 9, open now 5, SLA breached 1, incidents 1');
    expect(mail.text).toContain('1. acme · critical · resolved');
    expect(mail.text).toMatch(/Alerts held in quiet hours: +4/);
    expect(mail.html).toContain('<td align="left" style="padding:4px 8px;border-bottom:1px solid #d8dee4">Acme &lt;Foods&gt;</td>');
    expect(mail.html).toContain('Beta &amp; Co');
    expect(mail.headers.get('x-earshot-event')).toBe('digest');
  });

  it('renders target and destination alerts with their fields, escaped', async () => {
    await send(config, message(targetAlert, { messageId: 'msg_t' }));
    await send(config, message(destinationAlert, { messageId: 'msg_d' }));
    const [target, destination] = smtp.messages;
    expect(target!.subject).toBe('[earshot] Target blocked · yandex_maps "yandex-maps-1" (Acme)');
    expect(target!.text).toMatch(/Last error: +HTTP 403 <captcha> & co/);
    expect(target!.text).toMatch(/Last success: +never/);
    expect(target!.html).toContain('HTTP 403 &lt;captcha&gt; &amp; co');
    expect(destination!.subject).toBe('[earshot] Destination failing · helpdesk "usedesk-main"');
    expect(destination!.text).toMatch(/Consecutive failures: +5/);
    expect(destination!.html).toContain('HTTP 503: &lt;html&gt;');
  });

  it('retries a 4xx, gives up on a 5xx, and takes a 5.4.5 quota reply as passing', async () => {
    smtp.failNext(1, 451, '4.3.0 Mail server temporarily rejected message');
    const temporary = await send(config, message(targetAlert));
    expect(temporary).toMatchObject({ ok: false, status: 451, retryAfterMs: null, gone: false });
    expect((temporary as { error: string }).error).toContain(`smtp 127.0.0.1:${smtp.port}: 451 4.3.0 Mail server temporarily rejected message`);

    smtp.failNext(1, 554, '5.7.1 Message rejected as spam');
    const permanent = await send(config, message(targetAlert));
    expect(permanent).toMatchObject({ ok: false, status: 554, gone: true });
    expect((permanent as { error: string }).error).toContain('554 5.7.1 Message rejected as spam');

    smtp.failNext(1, 550, '5.4.5 Daily user sending quota exceeded');
    expect(await send(config, message(targetAlert))).toMatchObject({ ok: false, status: 550, gone: false });

    expect(smtp.refused).toHaveLength(3);
    expect(smtp.messages).toHaveLength(0);
    expect(await send(config, message(targetAlert))).toMatchObject({ ok: true, status: 250 });
    expect(smtp.messages).toHaveLength(1);
  });

  it('awaits the pace before it connects', async () => {
    const order: string[] = [];
    const outcome = await send(config, message(targetAlert), {
      ...CTX,
      pace: async () => {
        order.push(`pace, ${smtp.messages.length} sent`);
      },
    });
    expect(outcome.ok).toBe(true);
    expect(order).toEqual(['pace, 0 sent']);
  });
});

describe('email with AUTH', () => {
  let smtp: SmtpFake;
  beforeAll(async () => {
    smtp = await startSmtpFake({ auth: { user: USER, pass: PASSWORD } });
  });
  afterAll(() => smtp.close());

  it('logs in with the user and password of the URL', async () => {
    const config = configFor(smtp.url({ user: USER, pass: PASSWORD }));
    expect(readSmtpUrl(config.smtp)).toMatchObject({ user: USER, pass: PASSWORD });
    const outcome = await send(config, message(ticketEvent()));
    expect(outcome).toMatchObject({ ok: true, status: 250 });
    expect(smtp.messages.at(-1)!.user).toBe(USER);
    expect(smtp.logins.at(-1)).toEqual({ user: USER, ok: true });
  });

  it('gives up on a wrong password (535) and never shows one in the error', async () => {
    const wrong = `${PASSWORD}x`;
    const outcome = await send(configFor(smtp.url({ user: USER, pass: wrong })), message(ticketEvent()));
    expect(outcome).toMatchObject({ ok: false, status: 535, gone: true });
    const error = (outcome as { error: string }).error;
    expect(error).toContain(`127.0.0.1:${smtp.port}`);
    expect(error).toMatch(/535/);
    expectNoPassword(outcome);
    expect(JSON.stringify(outcome)).not.toContain(encodeURIComponent(wrong));
  });

  it('gives up when the server wants a login and the URL has none', async () => {
    const outcome = await send(configFor(smtp.url()), message(ticketEvent()));
    expect(outcome).toMatchObject({ ok: false, status: 530, gone: true });
  });

  it('retries when nothing listens, naming the host and not the password', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const outcome = await send(configFor(`smtp://${encodeURIComponent(USER)}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}`), message(ticketEvent()));
    expect(outcome).toMatchObject({ ok: false, status: null, gone: false });
    expect((outcome as { error: string }).error).toContain(`smtp 127.0.0.1:${port}:`);
    expect((outcome as { error: string }).error).toMatch(/ECONNREFUSED|ESOCKET|ECONNECTION/);
    expectNoPassword(outcome);
  });

  it('retries when the server never greets, within the timeout', async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((socket) => {
      sockets.add(socket);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    try {
      const started = Date.now();
      const outcome = await send(
        configFor(`smtp://${encodeURIComponent(USER)}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}`),
        message(ticketEvent()),
        { ...CTX, timeoutMs: 300 },
      );
      expect(Date.now() - started).toBeLessThan(5000);
      expect(outcome).toMatchObject({ ok: false, status: null, gone: false });
      expect((outcome as { error: string }).error).toMatch(/ETIMEDOUT/);
      expectNoPassword(outcome);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});

describe('renderEmail', () => {
  const config = configFor('smtps://u:p@smtp.example.com', { subjectPrefix: '' });

  it('leaves the prefix out when it is empty and keeps subjects on one line', () => {
    const mail = renderEmail(config, message(ticketEvent('ticket.sla_breached'), { subject: null }));
    expect(mail.subject).toBe('SLA breached · Acme · team support: Anna K.: <b>cold</b> pizza & rude courier');
    const multi = renderEmail(config, message({ type: 'target.failing', data: { target: { id: 'x\ny', source: 'rss', state: 'blocked' } } }));
    expect(multi.subject).not.toMatch(/[\r\n]/);
  });

  it('answers the card of a ticket thread with the subject of its first mail', () => {
    const mail = renderEmail(config, message(ticketEvent('ticket.sla_warning'), { subject: 'ticket:1042', card: '<ticket.1042.email-ops@example.com>' }));
    expect(mail.subject).toBe('Re: New ticket · Acme · team support: Anna K.: <b>cold</b> pizza & rude courier');
    expect(mail.inReplyTo).toBe('<ticket.1042.email-ops@example.com>');
    expect(mail.root).toBe('<ticket.1042.email-ops@example.com>');
    expect(mail.messageId).toBe('<msg_1@example.com>');
    expect(mail.text).toContain('SLA WARNING');
  });

  it('makes a valid msg-id of any outbox id', () => {
    const mail = renderEmail(config, message(targetAlert, { messageId: 'msg с пробелом <и> @ "кавычками"' }));
    expect(mail.messageId).toMatch(/^<[A-Za-z0-9_=.-]+@example\.com>$/);
  });
});
