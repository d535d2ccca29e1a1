import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import nodemailer from 'nodemailer';
import { z } from 'zod';
import type { DigestDocument, IncidentDocument } from '../../documents/incident.ts';
import type { TicketDocument } from '../../documents/ticket.ts';
import { markSecret } from '../../lib/secret.ts';
import { slugSchema } from '../../lib/slug.ts';
import { escapeHtml, renderLink, renderParagraphs } from './html.ts';
import { oneLine, record, renderRating, tidyText } from './text.ts';
import type { ChannelMessage, Connector, DeliveryOutcome, SendContext } from './types.ts';

// Email over SMTP (nodemailer): one mail per alert with a plain-text and an HTML part. A ticket's or an incident's
// mails form one thread: the first mail's Message-ID comes from the subject and is the card; later mails answer it
// (In-Reply-To, References, "Re: " and the same subject line), which is how every mail client groups a thread.
// The SMTP URL carries the password: no URL, user info or password ever reaches an error.

// Config.

/** What an `smtp:` or `smtps:` URL names; the user and password are percent-decoded. */
export interface SmtpServer {
  /** smtps: TLS from the first byte (port 465); smtp: plain, upgraded with STARTTLS (port 587). */
  secure: boolean;
  host: string;
  port: number;
  user: string | null;
  pass: string | null;
}

const URL_SHAPE = 'smtps://user:password@smtp.example.com:465 or smtp://user:password@smtp.example.com:587';
const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/**
 * Reads an SMTP URL, or says what is wrong with it. The problem never quotes the URL: it may hold the password.
 */
export function readSmtpUrl(value: string): SmtpServer | { problem: string } {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(value)?.[1]?.toLowerCase();
  if (scheme !== 'smtp' && scheme !== 'smtps') {
    return { problem: `must start with smtps:// (TLS, port 465) or smtp:// (STARTTLS, port 587), like ${URL_SHAPE}` };
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { problem: `is not a valid URL; write it like ${URL_SHAPE}, with any @ : / ? # % in the user or password percent-encoded` };
  }
  if ((url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '') {
    return { problem: `must be only ${scheme}://user:password@host:port, without a path, query or fragment (percent-encode / ? # in the password)` };
  }
  // An IPv6 literal keeps its brackets in URL.hostname; the socket wants it bare.
  const bracketed = /^\[(.+)\]$/.exec(url.hostname)?.[1];
  const host = bracketed ?? url.hostname;
  if (host === '') return { problem: `names no host; write it like ${URL_SHAPE}` };
  if (bracketed ? isIP(bracketed) !== 6 : !HOST_NAME.test(host) && isIP(host) === 0) {
    return { problem: 'has a host that is neither a host name (ASCII, punycode for other scripts) nor an IP address' };
  }
  const port = url.port === '' ? (scheme === 'smtps' ? 465 : 587) : Number(url.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return { problem: 'has a port outside 1-65535' };
  let user: string | null = null;
  let pass: string | null = null;
  try {
    user = url.username === '' ? null : decodeURIComponent(url.username);
    pass = url.password === '' ? null : decodeURIComponent(url.password);
  } catch {
    return { problem: 'has a malformed %-escape in the user or password' };
  }
  if ((user === null) !== (pass === null)) {
    return { problem: 'gives a user without a password or a password without a user: write both (user:password@host) or neither' };
  }
  return { secure: scheme === 'smtps', host, port, user, pass };
}

/** An address and its optional display name, as `from` and each `to` are written. */
export interface Mailbox {
  name: string | null;
  address: string;
  /** The address's domain, in ASCII (punycode): the right-hand side of our Message-IDs. */
  domain: string;
}

const MAILBOX_SHAPE = 'must be an address, optionally with a name: "alerts@example.com" or "earshot <alerts@example.com>"';
// The local part as RFC 5322 dot-atoms (and RFC 6531 letters of any script), no quoted strings; the domain is a host
// name of at least two labels: mail for a bare host name goes nowhere outside a test lab.
const LOCAL_PART = /^[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+(?:\.[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+)*$/u;
const DOMAIN = /^(?=.{1,253}$)(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?\.)+[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?$/u;

/** Reads `alerts@example.com` or `Name <alerts@example.com>` (the name may be quoted); null when it is neither. */
export function parseMailbox(value: string): Mailbox | null {
  const text = value.trim();
  const named = /^(.*?)\s*<([^<>]*)>$/s.exec(text);
  let name: string | null = null;
  let address = text;
  if (named) {
    name = named[1]!.trim().replace(/^"(.*)"$/s, '$1').trim() || null;
    address = named[2]!.trim();
  }
  // A name with a newline or control character would end up inside a header.
  if (name !== null && /[\p{Cc}<>]/u.test(name)) return null;
  const at = address.lastIndexOf('@');
  if (at <= 0) return null;
  const local = address.slice(0, at);
  const domain = address.slice(at + 1).replace(/\.$/, '');
  if (local.length > 64 || !LOCAL_PART.test(local) || !DOMAIN.test(domain)) return null;
  const ascii = domainToASCII(domain.toLowerCase());
  if (ascii === '') return null;
  return { name, address: `${local}@${domain}`, domain: ascii };
}

const mailboxSchema = z.string().superRefine((value, ctx) => {
  if (parseMailbox(value) === null) ctx.addIssue({ code: 'custom', message: MAILBOX_SHAPE });
});

/** Yandex Mail takes at most 35 recipients per message over SMTP; more is a mailing list's job. */
export const EMAIL_MAX_RECIPIENTS = 35;

export const emailConfigSchema = z.strictObject({
  id: slugSchema,
  type: z.literal('email'),
  /** The outgoing server with its login; the password makes the whole URL a secret. */
  smtp: markSecret(
    z.string().superRefine((value, ctx) => {
      const server = readSmtpUrl(value);
      if ('problem' in server) ctx.addIssue({ code: 'custom', message: server.problem });
    }),
  ),
  from: mailboxSchema,
  to: z
    .array(mailboxSchema)
    .min(1, 'needs at least one address')
    .max(EMAIL_MAX_RECIPIENTS, `takes at most ${EMAIL_MAX_RECIPIENTS} addresses (Yandex Mail's limit per message); send to a mailing list for more`)
    .superRefine((list, ctx) => {
      const seen = new Set<string>();
      list.forEach((value, index) => {
        const address = parseMailbox(value)?.address.toLowerCase();
        if (address === undefined) return;
        if (seen.has(address)) ctx.addIssue({ code: 'custom', path: [index], message: `lists ${address} twice` });
        seen.add(address);
      });
    }),
  subjectPrefix: z
    .string()
    .max(40, 'must be at most 40 characters')
    .regex(/^[^\p{Cc}]*$/u, 'must be one line')
    .default('[earshot]'),
});

export type EmailConfig = z.output<typeof emailConfigSchema>;

// Rendering: an alert becomes a view (kicker, headline, blocks) that is written twice, as plain text and as HTML,
// so both parts always say the same. Every value from outside is escaped in HTML; links are http(s) only.

interface Link {
  url: string;
  label: string;
}

type Row = readonly [label: string, value: string];

type Block =
  | { kind: 'fields'; rows: Row[] }
  | { kind: 'heading'; text: string }
  | { kind: 'paragraph'; text: string }
  | { kind: 'quote'; title: string | null; text: string }
  | { kind: 'items'; items: { head: string; text: string | null; link: Link | null }[] }
  | { kind: 'table'; head: string[]; rows: string[][] }
  | { kind: 'links'; links: Link[] };

type Tone = 'alert' | 'warning' | 'ok' | 'info';

interface EmailView {
  /** One line above the headline: what kind of alert this is. */
  kicker: string;
  headline: string;
  /** The line a mail client shows next to the subject in the inbox. */
  preheader: string;
  /** The subject of a mail of its own, without the prefix. */
  subject: string;
  /**
   * The subject of every mail of a thread, without the prefix: built only from what stays the same for the
   * ticket's or incident's whole life, so each mail of the thread carries the same line ("Re: " aside).
   */
  threadSubject: string | null;
  tone: Tone;
  blocks: Block[];
  /** Header values for mailbox rules (X-Earshot-*). */
  headers: Record<string, string>;
}

/** The longest excerpt of a mention's text in a ticket mail; the whole text is one click away. */
const EXCERPT_CHARS = 1200;
const POST_EXCERPT_CHARS = 280;
const FIELD_CHARS = 2000;
const SUBJECT_PART_CHARS = 120;

function str(value: unknown): string | null {
  if (typeof value === 'string') return value.trim() === '' ? null : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return String(value);
  return null;
}

function isHttp(url: string | null | undefined): url is string {
  if (!url || !/^https?:\/\//i.test(url)) return false;
  try {
    new URL(url);
    return true;
  } catch {
    return false;
  }
}

function link(url: string | null | undefined, label: string): Link | null {
  return isHttp(url) ? { url, label } : null;
}

/** At most `max` code points (no surrogate pair is split), cut at a word when one is near, with "…". */
function cut(text: string, max: number): string {
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  const head = chars.slice(0, Math.max(0, max - 1)).join('');
  const space = head.search(/\s\S*$/);
  return `${(space > head.length * 0.8 ? head.slice(0, space) : head).trimEnd()}…`;
}

function rows(...pairs: [string, string | null | undefined][]): Row[] {
  return pairs.filter((p): p is [string, string] => typeof p[1] === 'string' && p[1] !== '').map(([l, v]) => [l, cut(v, FIELD_CHARS)] as const);
}

/** "2026-12-03 14:05 UTC"; a value that is not a timestamp is shown as it is. */
function utc(iso: string | null | undefined): string | null {
  if (!iso) return null;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** A date and time in a time zone, "2026-12-03 09:00"; UTC when the zone is unknown to this runtime. */
function zoned(date: Date, timeZone: string, withTime: boolean): string {
  let parts: Intl.DateTimeFormatPart[];
  try {
    parts = new Intl.DateTimeFormat('en-CA', {
      timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
    }).formatToParts(date);
  } catch {
    const iso = date.toISOString();
    return withTime ? `${iso.slice(0, 10)} ${iso.slice(11, 16)}` : iso.slice(0, 10);
  }
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  const day = `${part('year')}-${part('month')}-${part('day')}`;
  return withTime ? `${day} ${part('hour')}:${part('minute')}` : day;
}

/** A count or a rate as a person reads it: 27, 6.1, 0.35, 1,240. */
function num(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  const abs = Math.abs(value);
  if (abs >= 100) return Math.round(value).toLocaleString('en-US');
  if (abs >= 1) return value.toFixed(1).replace(/\.0$/, '');
  return String(Number(value.toPrecision(2)));
}

function minutes(total: number): string {
  if (total >= 1440 && total % 1440 === 0) return `${total / 1440} d`;
  if (total >= 60 && total % 60 === 0) return `${total / 60} h`;
  return `${total} min`;
}

function humanize(key: string): string {
  const words = key.replaceAll('_', ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A header value for mailbox rules: a short token, nothing a header could be bent with. */
function headerToken(value: string): string {
  return value.replace(/[^A-Za-z0-9._:@-]/g, '_').slice(0, 80);
}

// Tickets.

const TICKET_EVENTS: Record<string, { label: string; tone: Tone }> = {
  'ticket.created': { label: 'New ticket', tone: 'info' },
  'ticket.updated': { label: 'Ticket updated', tone: 'info' },
  'ticket.sla_warning': { label: 'SLA warning', tone: 'warning' },
  'ticket.sla_breached': { label: 'SLA breached', tone: 'alert' },
};

function authorText(author: Partial<TicketDocument['mention']['author']> | undefined): string | null {
  if (!author) return null;
  const handle = author.handle ? `@${author.handle.replace(/^@/, '')}` : null;
  const name = [author.name, handle && handle !== `@${author.name}` ? handle : null].filter(Boolean).join(' ');
  if (name === '') return null;
  return typeof author.followers === 'number' ? `${name} (${num(author.followers)} followers)` : name;
}

function ticketSubject(label: string, t: TicketDocument): string {
  return `${label} · ${oneLine(t.brand)} · team ${oneLine(t.team)}: ${cut(oneLine(t.title), SUBJECT_PART_CHARS)}`;
}

function ticketView(type: string, ticket: TicketDocument, summary: string | null): EmailView {
  const event = TICKET_EVENTS[type] ?? { label: humanize(type.replace(/^ticket\./, 'ticket ')), tone: 'info' as Tone };
  const m = (record(ticket.mention) ?? {}) as Partial<TicketDocument['mention']>;
  const cluster = record(ticket.cluster) as TicketDocument['cluster'];
  const sentiment = record(m.sentiment) as TicketDocument['mention']['sentiment'] | null;
  const blocks: Block[] = [
    {
      kind: 'fields',
      rows: rows(
        ['Brand', str(ticket.brand)],
        ['Team', str(ticket.team)],
        ['Priority', str(ticket.priority)],
        ['Status', str(ticket.status)?.replaceAll('_', ' ')],
        ['Assignee', str(ticket.assignee)],
        ['Source', str(m.source)],
        ['Author', authorText((record(m.author) ?? undefined) as Partial<TicketDocument['mention']['author']> | undefined)],
        ['Rating', typeof m.rating === 'number' ? renderRating(m.rating) : null],
        ['Sentiment', sentiment && str(sentiment.label) ? `${sentiment.label}${typeof sentiment.confidence === 'number' ? ` (${Math.round(sentiment.confidence * 100)}% sure)` : ''}` : null],
        ['Published', utc(m.published_at)],
        ['Story', cluster && cluster.size > 1 ? `${num(cluster.size)} mentions on ${(cluster.sources ?? []).join(', ')}` : null],
        ['First response due', utc(ticket.first_response_due_at)],
        ['Resolution due', utc(ticket.resolution_due_at)],
        ['SLA missed', Array.isArray(ticket.breaches) && ticket.breaches.length > 0 ? ticket.breaches.map((b) => b.replaceAll('_', ' ')).join(', ') : null],
        ['Ticket', str(ticket.id)],
      ),
    },
  ];
  const text = str(m.text);
  const title = str(m.title);
  if (text || title) blocks.push({ kind: 'quote', title: title ? cut(oneLine(title), 300) : null, text: text ? cut(tidyText(text), EXCERPT_CHARS) : '' });
  const source = link(m.url, `Open on ${str(m.source) ?? 'the source'}`);
  if (source) blocks.push({ kind: 'links', links: [source] });
  const subject = ticketSubject(event.label, ticket);
  return {
    kicker: event.label,
    headline: summary ?? subject,
    preheader: text ? cut(oneLine(text), 140) : subject,
    subject,
    // The thread is named after its first mail, a new ticket: that is what the later SLA mails answer.
    threadSubject: ticketSubject(TICKET_EVENTS['ticket.created']!.label, ticket),
    tone: ticket.priority === 'urgent' && event.tone === 'info' ? 'alert' : event.tone,
    blocks,
    headers: { 'X-Earshot-Ticket': headerToken(ticket.id), 'X-Earshot-Priority': headerToken(ticket.priority) },
  };
}

// Incidents.

const RULE_NAMES: Record<string, string> = {
  nb_tail: 'tail probability', volume_z: 'volume z-score', sustained_z: 'sustained z-score', share_jump: 'negative share jump',
  cusum: 'CUSUM drift', high_reach: 'high-reach post', absolute: 'absolute threshold',
};

function scopeOf(incident: IncidentDocument): string | null {
  return incident.scope.startsWith('source:') ? incident.scope.slice('source:'.length) : null;
}

/** "negative in 15 min: 27 vs 6.1 expected": the numbers behind the incident, as they are now. */
function incidentState(incident: IncidentDocument): string {
  const why = incident.why;
  return `negative in ${minutes(why.window_minutes)}: ${num(why.observed)} vs ${num(why.expected)} expected`;
}

function incidentView(type: string, incident: IncidentDocument, summary: string | null): EmailView {
  const why = incident.why;
  const scope = scopeOf(incident);
  const brand = `${oneLine(incident.brand_name)}${scope ? ` · ${oneLine(scope)}` : ''}`;
  const state = incidentState(incident);
  const severity = incident.severity;
  const significance =
    why.p_value !== null ? `p = ${why.p_value < 0.001 ? why.p_value.toExponential(1) : why.p_value.toFixed(3)} (tail probability)`
      : why.z !== null ? `z = ${why.z.toFixed(1)} (robust z-score)`
        : why.regime === 'absolute' ? 'too little history yet: an absolute threshold' : null;
  const acknowledged = incident.acknowledged_at
    ? `by ${incident.acknowledged_by ?? 'someone'} at ${utc(incident.acknowledged_at)}`
    : incident.status === 'resolved' ? null : 'not yet';
  const resolved = incident.resolved_at ? `by ${incident.resolved_by ?? 'someone'} at ${utc(incident.resolved_at)}` : null;
  const escalated = incident.escalated_at
    ? `${utc(incident.escalated_at)}${incident.escalation_reason === 'unacknowledged' ? ' (critical and not acknowledged)' : incident.escalation_reason === 'severity' ? ' (became critical)' : ''}`
    : null;
  const languagesTotal = incident.languages.reduce((sum, l) => sum + l.count, 0);

  const blocks: Block[] = [
    {
      kind: 'fields',
      rows: rows(
        ['Severity', severity],
        ['Status', incident.status],
        ['Brand', oneLine(incident.brand_name)],
        ['Sources', scope ?? 'all'],
        ['Now vs expected', `${num(why.observed)} vs ${num(why.expected)} expected${why.lift !== null ? ` (×${num(why.lift)})` : ''}`],
        ['Window', minutes(why.window_minutes)],
        ['Significance', significance],
        ['Authors', num(why.authors)],
        ['Reach', why.reach !== null ? num(why.reach) : null],
        ['Rules', why.rules.map((r) => RULE_NAMES[r] ?? r).join(', ')],
        ['Peak', `${num(incident.peak.observed)} vs ${num(incident.peak.expected)} expected`],
        ['Opened', utc(incident.opened_at)],
        ['Escalated', escalated],
        ['Acknowledged', acknowledged],
        ['Resolved', resolved],
        ['Resolution note', str(incident.resolution_note)],
        ['Tickets held', incident.tickets > 0 ? `${num(incident.tickets)} (their own alerts wait while the incident is open)` : null],
      ),
    },
  ];
  if (str(why.summary)) blocks.push({ kind: 'paragraph', text: `Why: ${why.summary}` });
  const spread = rows(
    ['Top terms', incident.top_terms.join(', ')],
    ['Top sources', incident.top_sources.map((s) => `${s.source} ${num(s.count)}`).join(' · ')],
    ['Languages', incident.languages.map((l) => `${l.language} ${languagesTotal > 0 ? Math.round((l.count / languagesTotal) * 100) : 0}% (${num(l.count)})`).join(' · ')],
  );
  if (spread.length > 0) blocks.push({ kind: 'fields', rows: spread });
  const posts = incident.top_posts.slice(0, 3);
  if (posts.length > 0) {
    blocks.push({ kind: 'heading', text: 'Top posts' });
    blocks.push({
      kind: 'items',
      items: posts.map((p) => ({
        head: [p.source, p.author, p.reach !== null ? `reach ${num(p.reach)}` : null, utc(p.published_at)].filter(Boolean).join(' · ') || 'post',
        text: str(p.excerpt) ? cut(tidyText(p.excerpt), POST_EXCERPT_CHARS) : null,
        link: link(p.url, `Open on ${p.source ?? 'the source'}`),
      })),
    });
  }

  const label = type === 'incident.opened' ? 'opened'
    : type === 'incident.escalated' ? 'escalated'
      : type === 'incident.resolved' ? 'resolved'
        : type === 'incident.updated' ? 'update' : type;
  const tone: Tone = incident.status === 'resolved' ? 'ok' : severity === 'critical' ? 'alert' : 'warning';
  const subjectState = incident.status === 'resolved'
    ? `resolved · ${brand}: peak ${num(incident.peak.observed)} vs ${num(incident.peak.expected)} expected`
    : `${severity} · ${brand}: ${state}`;
  return {
    kicker: `Crisis ${label} · ${severity}`,
    headline: summary ?? `${humanize(severity)}: ${state}`,
    preheader: incident.status === 'resolved' ? `Resolved${resolved ? ` ${resolved}` : ''}` : `${severity.toUpperCase()} · ${state}`,
    subject: `CRISIS ${subjectState}`,
    threadSubject: `CRISIS · ${brand}: negative spike since ${utc(incident.opened_at)}`,
    tone,
    blocks,
    headers: { 'X-Earshot-Incident': headerToken(incident.id), 'X-Earshot-Severity': severity },
  };
}

// Digests.

const DAY_MS = 24 * 3600_000;

function digestView(digest: DigestDocument, summary: string | null): EmailView {
  const start = new Date(digest.period_start);
  const end = new Date(digest.period_end);
  const zone = digest.time_zone;
  const span = end.getTime() - start.getTime();
  // A day's digest is named after the day its period ends in (a digest at 00:00 covers the day before); a DST
  // change makes a day 23 or 25 hours long.
  const daily = Math.abs(span - DAY_MS) <= 3600_000;
  const lastDay = zoned(new Date(end.getTime() - 1), zone, false);
  const subject = daily ? `Daily digest · ${lastDay}` : `Digest · ${zoned(start, zone, false)} – ${lastDay}`;
  const blocks: Block[] = [
    { kind: 'fields', rows: rows(['Period', `${zoned(start, zone, true)} – ${zoned(end, zone, true)} (${zone})`], ['Alerts held in quiet hours', digest.held > 0 ? num(digest.held) : null]) },
  ];
  if (digest.brands.length > 0) {
    blocks.push({
      kind: 'table',
      head: ['Brand', 'Mentions', 'Negative', 'Tickets opened', 'Solved', 'Open now', 'SLA breached', 'Incidents'],
      rows: digest.brands.map((b) => [
        oneLine(b.name), num(b.mentions), num(b.negative), num(b.tickets_opened), num(b.tickets_solved), num(b.tickets_open), num(b.sla_breached), num(b.incidents),
      ]),
    });
  } else {
    blocks.push({ kind: 'paragraph', text: 'No brand had anything to report in this period.' });
  }
  if (digest.incidents.length > 0) {
    blocks.push({ kind: 'heading', text: 'Incidents' });
    blocks.push({
      kind: 'items',
      items: digest.incidents.map((i) => ({ head: `${i.brand} · ${i.severity} · ${i.status}`, text: cut(oneLine(i.summary), 300), link: null })),
    });
  }
  return {
    kicker: 'Digest',
    headline: summary ?? subject,
    preheader: summary ?? subject,
    subject,
    threadSubject: null,
    tone: 'info',
    blocks,
    headers: {},
  };
}

// Target and destination alerts, and anything else: their scalar fields.

function isScalar(value: unknown): value is string | number | boolean {
  return ['string', 'number', 'boolean'].includes(typeof value) && value !== '';
}

function scalarRows(...sources: Record<string, unknown>[]): Row[] {
  return rows(...sources.flatMap((s) => Object.entries(s)).filter((e) => isScalar(e[1])).map(([k, v]): [string, string] => [humanize(k), String(v)]));
}

function recordView(type: string, data: Record<string, unknown>, summary: string | null): EmailView {
  const target = record(data.target);
  const destination = record(data.destination);
  const rest = Object.fromEntries(Object.entries(data).filter(([k]) => !['alert', 'target', 'destination'].includes(k)));
  let subject: string;
  let kicker: string;
  let fields: Row[];
  if (target) {
    const what = type === 'target.silent' ? 'Target silent' : `Target ${str(target.state)?.replaceAll('_', ' ') ?? 'failing'}`;
    subject = `${what} · ${oneLine(str(target.source) ?? 'target')} "${oneLine(str(target.id) ?? '?')}"${str(target.brand) ? ` (${oneLine(String(target.brand))})` : ''}`;
    kicker = what;
    fields = scalarRows(target, rest);
    if (!('last_success_at' in target) || target.last_success_at === null) fields.push(['Last success', 'never']);
  } else if (destination) {
    subject = `Destination failing · ${oneLine(str(destination.kind) ?? 'destination')} "${oneLine(str(destination.id) ?? '?')}"`;
    kicker = 'Destination failing';
    fields = scalarRows(destination, rest);
  } else {
    subject = summary ? cut(oneLine(summary), SUBJECT_PART_CHARS) : humanize(type);
    kicker = humanize(type);
    fields = scalarRows(rest);
  }
  return {
    kicker,
    headline: summary ?? subject,
    preheader: summary ?? subject,
    subject,
    threadSubject: null,
    tone: type.endsWith('.failing') ? 'alert' : 'warning',
    blocks: fields.length > 0 ? [{ kind: 'fields', rows: fields }] : [],
    headers: {},
  };
}

function viewOf(body: Record<string, unknown>): EmailView {
  const type = str(body.type) ?? 'earshot.alert';
  const data = record(body.data) ?? {};
  const summary = str(record(data.alert)?.summary);
  const ticket = record(data.ticket);
  const incident = record(data.incident);
  const digest = record(data.digest);
  let view: EmailView;
  if (ticket && record(ticket.mention)) view = ticketView(type, ticket as unknown as TicketDocument, summary);
  else if (incident && record(incident.why)) view = incidentView(type, incident as unknown as IncidentDocument, summary);
  else if (digest && Array.isArray(digest.brands)) view = digestView(digest as unknown as DigestDocument, summary);
  else view = recordView(type, data, summary);
  view.headers = { 'X-Earshot-Event': headerToken(type), ...view.headers };
  return view;
}

// Writing the view.

const TONE_COLORS: Record<Tone, string> = { alert: '#cf222e', warning: '#9a6700', ok: '#1a7f37', info: '#0969da' };
const FONT = "-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif";

function textBlock(block: Block): string {
  switch (block.kind) {
    case 'fields': {
      const width = Math.max(...block.rows.map(([l]) => l.length)) + 1;
      return block.rows.map(([l, v]) => `${`${l}:`.padEnd(width)} ${v.replace(/\n/g, `\n${' '.repeat(width + 1)}`)}`).join('\n');
    }
    case 'heading':
      return `${block.text}\n${'-'.repeat(Array.from(block.text).length)}`;
    case 'paragraph':
      return block.text;
    case 'quote': {
      const lines = [...(block.title ? [block.title] : []), ...(block.text ? block.text.split('\n') : [])];
      return lines.map((l) => (l === '' ? '>' : `> ${l}`)).join('\n');
    }
    case 'items':
      return block.items
        .map((item, i) => {
          const indent = ' '.repeat(String(i + 1).length + 2);
          const more = [
            ...(item.text ? item.text.split('\n').filter((l) => l.trim() !== '') : []),
            ...(item.link ? [`${item.link.label}: ${item.link.url}`] : []),
          ];
          return [`${i + 1}. ${item.head}`, ...more.map((l) => indent + l)].join('\n');
        })
        .join('\n\n');
    case 'table':
      // A row a line: "Acme: mentions 1,240, negative 87, …"; a text part has no columns to line up.
      return block.rows
        .map((row) => `${row[0]}: ${row.slice(1).map((cell, i) => `${block.head[i + 1]!.replace(/^[A-Z](?=[a-z])/, (c) => c.toLowerCase())} ${cell}`).join(', ')}`)
        .join('\n');
    case 'links':
      return block.links.map((l) => `${l.label}: ${l.url}`).join('\n');
  }
}

/** The plain-text part: what a text-only client, a screen reader or a mail filter reads. */
function renderText(view: EmailView, openUrl: string | null, footer: string): string {
  const parts = [
    `${view.kicker.toUpperCase()}\n${view.headline}`,
    ...view.blocks.map(textBlock).filter((t) => t !== ''),
    ...(openUrl ? [`Open in earshot: ${openUrl}`] : []),
  ];
  // "-- " on a line of its own starts a signature: clients fold the footer away.
  return `${parts.join('\n\n')}\n\n-- \n${footer}\n`;
}

function htmlBlock(block: Block, accent: string): string {
  switch (block.kind) {
    case 'fields':
      return `<table role="presentation" cellpadding="0" cellspacing="0" style="border-collapse:collapse;margin:0 0 16px">${block.rows
        .map(
          ([l, v]) =>
            `<tr><th align="left" valign="top" style="padding:2px 16px 2px 0;color:#57606a;font-weight:normal;white-space:nowrap">${escapeHtml(l)}</th>` +
            `<td style="padding:2px 0">${escapeHtml(v).replaceAll('\n', '<br>')}</td></tr>`,
        )
        .join('')}</table>`;
    case 'heading':
      return `<h2 style="margin:20px 0 8px;font-size:15px">${escapeHtml(block.text)}</h2>`;
    case 'paragraph':
      return `<p style="margin:0 0 16px">${escapeHtml(block.text).replaceAll('\n', '<br>')}</p>`;
    case 'quote':
      return (
        '<blockquote style="margin:0 0 16px;padding:8px 12px;border-left:3px solid #d0d7de;background:#f6f8fa;color:#24292f">' +
        (block.title ? `<p style="margin:0 0 8px"><b>${escapeHtml(block.title)}</b></p>` : '') +
        renderParagraphs(block.text).replaceAll('<p>', '<p style="margin:0 0 8px">') +
        '</blockquote>'
      );
    case 'items':
      return `<ol style="margin:0 0 16px;padding-left:20px">${block.items
        .map(
          (item) =>
            `<li style="margin:0 0 10px"><div style="color:#57606a">${escapeHtml(item.head)}</div>` +
            (item.text ? `<div>${escapeHtml(item.text).replaceAll('\n', '<br>')}</div>` : '') +
            (item.link ? `<div>${renderLink(item.link.url, item.link.label)}</div>` : '') +
            '</li>',
        )
        .join('')}</ol>`;
    case 'table': {
      const cell = 'padding:4px 8px;border-bottom:1px solid #d8dee4';
      const head = block.head.map((h, i) => `<th align="${i === 0 ? 'left' : 'right'}" style="${cell};color:#57606a;font-weight:normal">${escapeHtml(h)}</th>`).join('');
      const body = block.rows
        .map((row) => `<tr>${row.map((c, i) => `<td align="${i === 0 ? 'left' : 'right'}" style="${cell}">${escapeHtml(c)}</td>`).join('')}</tr>`)
        .join('');
      return `<table role="presentation" cellpadding="0" cellspacing="0" style="border-collapse:collapse;margin:0 0 16px;font-size:13px"><tr>${head}</tr>${body}</table>`;
    }
    case 'links':
      return `<p style="margin:0 0 16px">${block.links
        .map((l) => `<a href="${escapeHtml(l.url)}" style="color:${accent}">${escapeHtml(l.label)}</a>`)
        .join(' &nbsp;·&nbsp; ')}</p>`;
  }
}

/** The HTML part: one column of tables and inline styles, which is what mail clients render alike. */
function renderHtml(view: EmailView, subject: string, openUrl: string | null, footer: string): string {
  const accent = TONE_COLORS[view.tone];
  const open = openUrl
    ? `<p style="margin:8px 0 0"><a href="${escapeHtml(openUrl)}" style="display:inline-block;padding:8px 16px;background:${accent};color:#ffffff;text-decoration:none;border-radius:4px">Open in earshot</a></p>`
    : '';
  return (
    '<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">' +
    `<title>${escapeHtml(subject)}</title></head>` +
    `<body style="margin:0;padding:0;background:#f4f5f7">` +
    // The preheader: inbox lists show the first text of a mail; this line goes there, and nowhere in the mail.
    `<div style="display:none;max-height:0;overflow:hidden;opacity:0">${escapeHtml(view.preheader)}</div>` +
    '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f5f7"><tr><td align="center" style="padding:16px">' +
    `<table role="presentation" width="640" cellpadding="0" cellspacing="0" style="width:100%;max-width:640px;background:#ffffff;border:1px solid #d8dee4;border-top:4px solid ${accent};border-radius:6px">` +
    `<tr><td style="padding:20px 24px;font-family:${FONT};font-size:14px;line-height:1.5;color:#1f2328">` +
    `<p style="margin:0 0 4px;font-size:12px;font-weight:bold;letter-spacing:0.04em;text-transform:uppercase;color:${accent}">${escapeHtml(view.kicker)}</p>` +
    `<h1 style="margin:0 0 16px;font-size:18px;line-height:1.3">${escapeHtml(view.headline)}</h1>` +
    view.blocks.map((b) => htmlBlock(b, accent)).join('') +
    open +
    '</td></tr></table>' +
    `<p style="margin:12px 0 0;font-family:${FONT};font-size:12px;color:#6e7781">${escapeHtml(footer)}</p>` +
    '</td></tr></table></body></html>'
  );
}

// Threading.

/** A msg-id's left side (RFC 5322 dot-atom-text): what cannot be in it becomes "=XX". */
function msgIdPart(value: string): string {
  return Array.from(value)
    .map((c) => (/[A-Za-z0-9_-]/.test(c) ? c : c === ':' ? '.' : Array.from(Buffer.from(c, 'utf8')).map((b) => `=${b.toString(16).toUpperCase().padStart(2, '0')}`).join('')))
    .join('')
    .replace(/\.{2,}/g, '.')
    .replace(/^\.|\.$/g, '') || 'x';
}

const MSG_ID = /^<[^<>\s@]+@[^<>\s@]+>$/;

/** What one mail looks like, before it is sent; pure: the same message renders the same mail. */
export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
  /** This mail's own Message-ID: the same for every attempt of one outbox message. */
  messageId: string;
  /** The thread's first mail, which this one answers; null for a first mail or a mail of its own. */
  inReplyTo: string | null;
  /** The card: the thread's first Message-ID (the message's subject), or this mail's own for a mail of its own. */
  root: string;
  headers: Record<string, string>;
}

export function renderEmail(config: EmailConfig, message: ChannelMessage): RenderedEmail {
  const from = parseMailbox(config.from);
  const domain = from?.domain ?? 'earshot.invalid';
  const view = viewOf(message.body);
  const prefix = oneLine(config.subjectPrefix);
  const withPrefix = (s: string) => (prefix === '' ? s : `${prefix} ${s}`);

  // The first mail of a subject takes a Message-ID made of the subject and the channel: a first mail sent again
  // (its card was never recorded) carries the same one, so mail clients show it once.
  const card = message.card !== null && MSG_ID.test(message.card.trim()) ? message.card.trim() : null;
  const own = `<${msgIdPart(message.messageId)}@${domain}>`;
  let messageId = own;
  let inReplyTo: string | null = null;
  let subject = withPrefix(view.subject);
  if (message.subject !== null) {
    const thread = withPrefix(view.threadSubject ?? `Thread ${oneLine(message.subject)}`);
    if (card === null) {
      messageId = `<${msgIdPart(message.subject)}.${msgIdPart(config.id)}@${domain}>`;
      subject = thread;
    } else {
      inReplyTo = card;
      subject = `Re: ${thread}`;
    }
  }
  const type = str(message.body.type) ?? 'alert';
  const timestamp = str(message.body.timestamp);
  const footer = `earshot · ${type}${timestamp ? ` · ${utc(timestamp)}` : ''} · channel ${config.id}`;
  // An incident names its own page; the message's link, when there is one, is the same page.
  const incidentUrl = str(record(record(message.body.data)?.incident)?.url);
  const openUrl = isHttp(message.openUrl) ? message.openUrl : isHttp(incidentUrl) ? incidentUrl : null;
  return {
    subject,
    text: renderText(view, openUrl, footer),
    html: renderHtml(view, subject, openUrl, footer),
    messageId,
    inReplyTo,
    root: inReplyTo ?? messageId,
    headers: {
      ...view.headers,
      'X-Earshot-Channel': headerToken(config.id),
      // RFC 3834: an automatic message; vacation and out-of-office replies skip it (Exchange reads its own header).
      'Auto-Submitted': 'auto-generated',
      'X-Auto-Response-Suppress': 'All',
    },
  };
}

// Sending.

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** What nodemailer attaches to its errors. */
interface SmtpError extends Error {
  code?: string;
  response?: string;
  responseCode?: number;
}

/** Every form in which the password could show up in a message: decoded, as written, encoded, in an AUTH line. */
function secretsOf(config: EmailConfig, server: SmtpServer | null): string[] {
  const secrets = [config.smtp];
  if (server?.pass) {
    const written = /^[^:]+:\/\/[^@/?#]*?:([^@/?#]*)@/.exec(config.smtp)?.[1];
    secrets.push(server.pass, encodeURIComponent(server.pass), Buffer.from(server.pass).toString('base64'));
    if (written) secrets.push(written);
    if (server.user) secrets.push(Buffer.from(`\u0000${server.user}\u0000${server.pass}`).toString('base64'));
  }
  return [...new Set(secrets)].filter((s) => s !== '').sort((a, b) => b.length - a.length);
}

function outcomeOf(err: SmtpError, where: string, hide: (s: string) => string): DeliveryOutcome {
  const code = typeof err.responseCode === 'number' ? err.responseCode : null;
  const reply = oneLine(err.response ?? err.message ?? String(err)).slice(0, 300);
  const error = hide(`smtp ${where}: ${reply}${err.code ? ` (${err.code})` : ''}`);
  // RFC 5321: 5yz is permanent, 4yz transient. 503 (bad sequence of commands) says the session went wrong, not the
  // message; a 5.4.5 "congestion" (RFC 3463: "useful only as a transient error", and how quota replies such as
  // "550 5.4.5 Daily sending quota exceeded" read) passes with time. Without a reply the connection failed or
  // timed out: try again.
  const congested = /\b[45]\.4\.5\b/.test(err.response ?? '');
  const gone = code !== null && code >= 500 && code < 600 && code !== 503 && !congested;
  return { ok: false, status: code, error, retryAfterMs: null, gone };
}

/** How nodemailer reaches the server: one connection, no logging, every wait bounded by the send's timeout. */
export function smtpTransportOptions(server: SmtpServer, timeoutMs: number) {
  return {
    host: server.host,
    port: server.port,
    secure: server.secure,
    auth: server.user !== null && server.pass !== null ? { user: server.user, pass: server.pass } : undefined,
    // The password never crosses a network in the clear: a plain smtp:// server must offer STARTTLS when we log in.
    // A relay on this machine is the exception (nothing between us to read it).
    requireTLS: !server.secure && server.user !== null && !isLoopback(server.host),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    dnsTimeout: timeoutMs,
    logger: false,
    debug: false,
    // The mail is ours alone: nothing in it may make nodemailer read a file or fetch a URL.
    disableFileAccess: true,
    disableUrlAccess: true,
  };
}

/**
 * One mail to the channel's recipients over a connection of its own. A transport lives for one send: a mailbox
 * takes a few hundred alerts a day at most, so a pool would save nothing worth its open connection, its state
 * across config reloads and a close to remember; and each send gets the timeouts of its own context.
 */
export async function sendEmail(config: EmailConfig, message: ChannelMessage, ctx: SendContext): Promise<DeliveryOutcome> {
  const server = readSmtpUrl(config.smtp);
  const parsed = 'problem' in server ? null : server;
  const secrets = secretsOf(config, parsed);
  const hide = (text: string) => secrets.reduce((out, s) => out.replaceAll(s, '[password]'), text);
  if (parsed === null) {
    return { ok: false, status: null, error: `smtp URL ${(server as { problem: string }).problem}`, retryAfterMs: null, gone: true };
  }
  const from = parseMailbox(config.from);
  const to = config.to.map(parseMailbox);
  if (from === null || to.some((t) => t === null)) {
    return { ok: false, status: null, error: 'email: the from or to address is not an address', retryAfterMs: null, gone: true };
  }
  const where = `${parsed.host.includes(':') ? `[${parsed.host}]` : parsed.host}:${parsed.port}`;
  const mail = renderEmail(config, message);

  await ctx.pace?.();
  const transport = nodemailer.createTransport(smtpTransportOptions(parsed, ctx.timeoutMs));
  try {
    const info = await transport.sendMail({
      from: { name: from.name ?? '', address: from.address },
      to: to.map((t) => ({ name: t!.name ?? '', address: t!.address })),
      subject: mail.subject,
      text: mail.text,
      html: mail.html,
      date: ctx.now,
      messageId: mail.messageId,
      ...(mail.inReplyTo ? { inReplyTo: mail.inReplyTo, references: [mail.inReplyTo] } : {}),
      headers: mail.headers,
    });
    const status = Number.parseInt(String(info.response ?? ''), 10);
    return { ok: true, status: Number.isInteger(status) && status >= 200 && status < 300 ? status : 250, externalId: mail.root };
  } catch (err) {
    return outcomeOf(err as SmtpError, where, hide);
  } finally {
    transport.close();
  }
}

/** Email: one mail per alert to up to 35 recipients; a ticket's or an incident's mails are one thread. */
export const emailConnector: Connector<EmailConfig> = {
  type: 'email',
  configSchema: emailConfigSchema,
  // A mailbox provider caps what one mailbox sends (Yandex Mail: 500 mails a day, then a 24-hour block that grows
  // while one keeps trying); a mail a second keeps a burst polite, and the channel's events and digest keep the
  // day's count down.
  minIntervalMs: () => 1000,
  sendMessage: sendEmail,
  // No cardUpdates: a mail cannot be edited, and a mail per refresh would flood the inbox; `*.updated` is not sent.
};
