import { createHmac } from 'node:crypto';
import { request } from 'undici';
import { outboundDispatcher } from '../../lib/outbound.ts';
import { z } from 'zod';
import type { TicketDocument } from '../../documents/ticket.ts';
import { parseRetryAfter } from '../../lib/backoff.ts';
import { isSameSecret, markSecret } from '../../lib/secret.ts';
import { slugSchema } from '../../lib/slug.ts';
import { OPEN_TICKET_STATUSES } from '../../store/schema.ts';
import { httpUrlSchema } from './config.ts';
import { oneLine, record, renderRating } from './text.ts';
import {
  decodeAction,
  encodeAction,
  type ActionResult,
  type ChannelAction,
  type ChannelMessage,
  type Connector,
  type DeliveryOutcome,
  type InboundRequest,
  type SendContext,
} from './types.ts';

// Slack incoming webhooks: POST {text, blocks} as JSON to the webhook URL; 200 "ok", else an HTTP status with a
// short plain-text error (invalid_payload, invalid_blocks, no_text, invalid_token, action_prohibited,
// channel_not_found, no_service, channel_is_archived), 429 with Retry-After. The URL itself is the credential.
//
// An incoming webhook cannot hear anything back. Buttons need the Slack app's Interactivity Request URL pointed
// at earshot: Slack then posts each press there as a form field `payload` (JSON), signed with the app's signing
// secret (X-Slack-Signature: v0=hex HMAC-SHA256 of "v0:{X-Slack-Request-Timestamp}:{raw body}"), and wants a
// 200 within 3 seconds. The press carries a response_url that can replace the message it came from.

export const slackConfigSchema = z.strictObject({
  id: slugSchema,
  type: z.literal('slack'),
  // Anyone holding the incoming webhook URL can post to the channel: it is the secret.
  url: markSecret(httpUrlSchema),
  // Whoever holds it can forge button presses: a secret too. Without it no buttons are offered, since no press
  // could be verified.
  signingSecret: markSecret(z.string().min(1))
    .optional()
    .describe("The Slack app's Signing Secret (Basic Information); with it messages carry buttons whose presses Slack posts to earshot"),
});

export type SlackConfig = z.output<typeof slackConfigSchema>;

// Block Kit limits (Slack's reference): 50 blocks a message, 3000 characters of section text, 150 of header
// text, 10 section fields of 2000 characters each, 10 context elements, 25 elements in an actions block, 75
// characters of button text, 2000 of a button's value, 3000 of its url. Slack also refuses a message whose blocks
// are too long in all (msg_blocks_too_long, reported around 13,000 characters): ours stay within `totalChars`
// of block JSON, which counts more than the text Slack counts.
export const SLACK_LIMITS = {
  blocks: 50, sectionText: 3000, headerText: 150, fields: 10, fieldText: 2000, contextElements: 10,
  actionElements: 25, buttonText: 75, buttonValue: 2000, buttonUrl: 3000, totalChars: 12_000,
} as const;
// Slack posts at most about one message a second to a channel.
const MIN_INTERVAL_MS = 1000;
const QUOTE_CHARS = 600;
/** The free text of one list item: a top post's excerpt, an incident's summary, a brand's name. */
const ITEM_CHARS = 200;
/** A signed press older (or newer) than this is refused: one captured once cannot be replayed later. */
export const SLACK_SIGNATURE_TOLERANCE_MS = 5 * 60_000;

/** mrkdwn's control characters: Slack asks for exactly these three to be escaped, nothing else. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
}

/**
 * Escapes `text` (each code point through `map`) and cuts it so the result is at most `max` UTF-16 units, an
 * ellipsis included when it was cut; an escape (`&amp;`) is never split.
 */
function fit(text: string, max: number, map: (c: string) => string = escapeMrkdwn): string {
  const parts: string[] = [];
  let length = 0;
  const chars = Array.from(text);
  for (let i = 0; i < chars.length; i++) {
    const piece = map(chars[i]!);
    const reserve = i === chars.length - 1 ? 0 : 1;
    if (length + piece.length + reserve > max) {
      parts.push('…');
      return parts.join('');
    }
    parts.push(piece);
    length += piece.length;
  }
  return parts.join('');
}

/** Plain text (a header, a button) cut to `max` UTF-16 units without splitting a surrogate pair. */
function cutPlain(text: string, max: number): string {
  return fit(text, max, (c) => c);
}

/** An http(s) URL as Slack may carry it (a link's or a button's), or null: no other scheme is ever offered. */
function httpUrl(url: string | null | undefined): string | null {
  if (!url || !/^https?:\/\//i.test(url)) return null;
  try {
    return new URL(url).href;
  } catch {
    return null;
  }
}

/** `<url|label>` for an http(s) URL, or null: no other scheme ever becomes a link. */
export function slackLink(url: string | null | undefined, label: string): string | null {
  const href = httpUrl(url);
  if (href === null) return null;
  // `|` would end the URL and `>` the link: percent-encode them; `&` and `<` as mrkdwn asks.
  const safe = href.replaceAll('|', '%7C').replaceAll('>', '%3E').replaceAll('<', '%3C').replaceAll('&', '&amp;');
  // In the label `<` and `>` are escaped and a `|` becomes a look-alike, so no label can end the link early.
  return `<${safe}|${escapeMrkdwn(oneLine(label)).replaceAll('|', '¦')}>`;
}

/** A time every reader sees in their own time zone (Slack's date formatting), with a UTC fallback. */
function slackDate(iso: unknown): string | null {
  if (typeof iso !== 'string') return null;
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return fit(iso, 40);
  const fallback = `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time}|${fallback}>`;
}

type Block = Record<string, unknown>;

/** How much text each part may take; a message too long in all is rendered again with less. */
interface Budget {
  section: number;
  field: number;
  quote: number;
  item: number;
}

const SCALES = [1, 0.5, 0.25, 0.1];

function budgetAt(scale: number): Budget {
  return {
    section: Math.floor(SLACK_LIMITS.sectionText * scale),
    field: Math.floor(SLACK_LIMITS.fieldText * scale),
    quote: Math.floor(QUOTE_CHARS * scale),
    item: Math.floor(ITEM_CHARS * scale),
  };
}

const mrkdwn = (text: string) => ({ type: 'mrkdwn' as const, text });

function field(label: string, value: string, b: Budget): { type: 'mrkdwn'; text: string } {
  const head = `*${label}*\n`;
  return mrkdwn(head + fit(value, b.field - head.length));
}

/** A field whose value is mrkdwn already (a date, a link): the caller keeps it short. */
function rawField(label: string, value: string): { type: 'mrkdwn'; text: string } {
  return mrkdwn(`*${label}*\n${value}`);
}

/** Fields in sections of at most ten, the first with its title. */
function fieldSections(title: string | null, fields: { type: 'mrkdwn'; text: string }[]): Block[] {
  const blocks: Block[] = [];
  for (let i = 0; i < fields.length; i += SLACK_LIMITS.fields) {
    const chunk = fields.slice(i, i + SLACK_LIMITS.fields);
    blocks.push(i === 0 && title ? { type: 'section', text: mrkdwn(title), fields: chunk } : { type: 'section', fields: chunk });
  }
  return blocks;
}

/**
 * Lines (each mrkdwn already) in as few sections as fit `max`, under a bold heading, at most `maxSections`; what
 * does not fit is counted in an "…and N more" line.
 */
function listSections(heading: string, lines: string[], max: number, maxSections: number): Block[] {
  const more = (n: number) => `_…and ${n} more_`;
  const room = max - more(lines.length).length - 1;
  const texts: string[] = [];
  let current = `*${heading}*`;
  let shown = 0;
  for (const line of lines) {
    if (line.length + 1 > room) continue;
    if (current.length + 1 + line.length > room) {
      if (texts.length + 1 >= maxSections) break;
      texts.push(current);
      current = line;
    } else {
      current = `${current}\n${line}`;
    }
    shown++;
  }
  if (shown < lines.length) current = `${current}\n${more(lines.length - shown)}`;
  texts.push(current);
  return texts.map((text) => ({ type: 'section', text: mrkdwn(text) }));
}

function header(text: string, b: Budget): Block {
  if (text.length <= SLACK_LIMITS.headerText && !text.includes('\n')) {
    return { type: 'header', text: { type: 'plain_text', text, emoji: false } };
  }
  return { type: 'section', text: mrkdwn(`*${fit(text, b.section - 2)}*`) };
}

function authorName(a: TicketDocument['mention']['author']): string {
  const name = [a.name, a.handle ? `@${a.handle.replace(/^@/, '')}` : null].filter(Boolean).join(' ') || 'unknown';
  return a.followers === null ? name : `${name} (${a.followers} followers)`;
}

function quote(text: string, max: number, b: Budget): string {
  const chars = Array.from(text.trim());
  const cut = chars.length > b.quote ? `${chars.slice(0, b.quote).join('')}…` : chars.join('');
  // Each line of a mrkdwn quote starts with ">": ours are the only ">" left unescaped.
  return `>${fit(cut, max - 1, (c) => (c === '\n' ? '\n>' : escapeMrkdwn(c)))}`;
}

function ticketBlocks(ticket: TicketDocument, b: Budget): Block[] {
  const m = ticket.mention;
  const fields = [
    field('Brand', ticket.brand, b),
    field('Team', ticket.team, b),
    field('Priority', ticket.priority, b),
    field('Status', ticket.status.replaceAll('_', ' '), b),
    field('Source', m.source, b),
    field('Author', authorName(m.author), b),
    ...(m.rating === null ? [] : [field('Rating', renderRating(m.rating), b)]),
  ];
  const blocks: Block[] = [
    { type: 'section', text: mrkdwn(`*${fit(ticket.title, b.section - 2)}*`), fields },
  ];
  if (m.text.trim() || m.title) {
    const title = m.title ? `*${fit(m.title, Math.min(500, Math.floor(b.section / 6)))}*\n` : '';
    const body = m.text.trim() ? quote(m.text, b.section - title.length, b) : '';
    blocks.push({ type: 'section', text: mrkdwn(title + body) });
  }
  const link = slackLink(m.url, 'Open on source');
  const context = [link, `Ticket ${escapeMrkdwn(ticket.id)}`].filter((t): t is string => t !== null).join(' · ');
  blocks.push({ type: 'context', elements: [mrkdwn(context)] });
  return blocks;
}

function humanize(key: string): string {
  const words = key.replaceAll('_', ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function isScalar(value: unknown): value is string | number | boolean | null {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

/** A target's or destination's fields (and the alert's own scalar data), as a section of fields. */
function recordBlocks(label: string, fields: Record<string, unknown>, extra: Record<string, unknown>, b: Budget): Block[] {
  const entries = [...Object.entries(fields), ...Object.entries(extra)].filter(
    (e): e is [string, string | number | boolean | null] => isScalar(e[1]) && e[1] !== null && e[1] !== '',
  );
  return fieldSections(`*${label}*`, entries.map(([k, v]) => field(humanize(k), String(v), b)));
}

const str = (value: unknown): string | null => (typeof value === 'string' && value.trim() !== '' ? value : null);
const num = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);
const records = (value: unknown): Record<string, unknown>[] =>
  Array.isArray(value) ? value.map(record).filter((r): r is Record<string, unknown> => r !== null) : [];

/** 1,234 for counts; two significant digits for small rates (an expectation of 1.2, 0.04). */
function formatNumber(n: number): string {
  if (Number.isInteger(n) || Math.abs(n) >= 100) return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return String(Number(n.toPrecision(Math.abs(n) < 1 ? 2 : 3)));
}

function formatWindow(minutes: number): string {
  if (minutes >= 1440 && minutes % 1440 === 0) return `${minutes / 1440} d`;
  if (minutes >= 60 && minutes % 60 === 0) return `${minutes / 60} h`;
  return `${minutes} min`;
}

function plural(n: number, word: string): string {
  return `${formatNumber(n)} ${word}${n === 1 ? '' : 's'}`;
}

const SEVERITY_LABEL: Record<string, string> = { critical: '🔴 Critical', warning: '🟠 Warning' };

/** "vk 9, telegram 3" from [{source, count}]. */
function counts(items: Record<string, unknown>[], key: string): string | null {
  const parts = items
    .map((i) => (str(i[key]) === null ? null : `${oneLine(str(i[key])!)} ${num(i.count) ?? '?'}`))
    .filter((p): p is string => p !== null)
    .slice(0, 10);
  return parts.length > 0 ? parts.join(', ') : null;
}

function whoAndWhen(by: unknown, at: unknown, b: Budget): string | null {
  const who = str(by) === null ? null : fit(oneLine(str(by)!), b.item);
  const when = slackDate(at);
  const parts = [who, when].filter((p): p is string => p !== null);
  return parts.length > 0 ? parts.join(' · ') : null;
}

function postLine(post: Record<string, unknown>, b: Budget): string {
  const excerpt = cutPlain(oneLine(str(post.excerpt) ?? '') || '(no text)', b.item);
  // A link of a few thousand characters would crowd out the rest: such a post is shown unlinked.
  const link = (httpUrl(str(post.url))?.length ?? Infinity) <= 1000 ? slackLink(str(post.url), excerpt) : null;
  const reach = num(post.reach);
  const meta = [str(post.author), str(post.source), reach === null ? null : `reach ${formatNumber(reach)}`]
    .filter((p): p is string => p !== null)
    .map((p) => fit(oneLine(p), 60))
    .join(' · ');
  return `• ${link ?? escapeMrkdwn(excerpt)}${meta ? ` — ${meta}` : ''}`;
}

/** "14 vs 1.2 expected (×11.7)". */
function observedLine(observed: number | null, expected: number | null, lift: number | null): string | null {
  if (observed === null || expected === null) return null;
  return `${formatNumber(observed)} vs ${formatNumber(expected)} expected${lift === null ? '' : ` (×${formatNumber(lift)})`}`;
}

function significance(why: Record<string, unknown>): string | null {
  const p = num(why.p_value);
  const z = num(why.z);
  if (p !== null) return `p = ${p < 0.001 ? p.toExponential(1) : p.toFixed(3)}`;
  if (z !== null) return `z = ${z.toFixed(1)}`;
  return why.regime === 'absolute' ? 'absolute threshold (too little history)' : null;
}

/** An incident event (data.incident, documents/incident.ts): the card a PR lead decides from. */
function incidentBlocks(type: string, incident: Record<string, unknown>, b: Budget): Block[] {
  const brand = oneLine(str(incident.brand_name) ?? str(incident.brand) ?? 'unknown brand');
  const severity = SEVERITY_LABEL[String(incident.severity)] ?? SEVERITY_LABEL.warning!;
  const why = record(incident.why) ?? {};
  const peak = record(incident.peak) ?? {};
  const id = str(incident.id);
  const scope = str(incident.scope);
  const context: Block = {
    type: 'context',
    elements: [mrkdwn([id ? `Incident ${fit(id, 80)}` : null, scope && scope !== 'all' ? fit(scope, 80) : null].filter(Boolean).join(' · ') || 'Incident')],
  };

  if (type === 'incident.resolved') {
    // The card said everything while it was open: resolving it needs a line, not a second card.
    const resolved = whoAndWhen(incident.resolved_by, incident.resolved_at, b);
    const opened = slackDate(incident.opened_at);
    const peakLine = observedLine(num(peak.observed), num(peak.expected), null);
    const note = str(incident.resolution_note);
    const lines = [
      resolved === null ? '*Resolved*' : `*Resolved* by ${resolved}`,
      [opened === null ? null : `Opened ${opened}`, peakLine === null ? null : `peak ${peakLine}`].filter(Boolean).join(', ') || null,
      note === null ? null : quote(note, Math.floor(b.section / 3), b),
      str(why.summary) ? `Why it opened: ${fit(oneLine(str(why.summary)!), Math.floor(b.section / 3))}` : null,
    ].filter((l): l is string => l !== null);
    return [
      header(cutPlain(`✅ Resolved · ${brand}`, SLACK_LIMITS.headerText), b),
      { type: 'section', text: mrkdwn(lines.join('\n')) },
      context,
    ];
  }

  const title = type === 'incident.escalated' ? `${severity} incident, escalated` : type === 'incident.updated' ? `${severity} incident, update` : `${severity} incident`;
  const blocks: Block[] = [header(cutPlain(`${title} · ${brand}`, SLACK_LIMITS.headerText), b)];
  const lead = [
    type === 'incident.escalated' && incident.escalation_reason === 'unacknowledged' ? '_Escalated: nobody acknowledged it in time._' : null,
    str(why.summary) ? fit(oneLine(str(why.summary)!), b.section - 60) : null,
  ].filter((l): l is string => l !== null);
  if (lead.length > 0) blocks.push({ type: 'section', text: mrkdwn(lead.join('\n')) });

  const window = num(why.window_minutes);
  const nowLine = observedLine(num(why.observed), num(why.expected), num(why.lift));
  // The peak only says something when the talk was louder before than it is now.
  const peakLine = (num(peak.observed) ?? 0) > (num(why.observed) ?? Infinity) ? observedLine(num(peak.observed), num(peak.expected), null) : null;
  const p = significance(why);
  const terms = Array.isArray(incident.top_terms) ? incident.top_terms.filter((t) => typeof t === 'string').slice(0, 10).map(oneLine) : [];
  const sources = counts(records(incident.top_sources), 'source');
  const languages = counts(records(incident.languages), 'language');
  const tickets = num(incident.tickets);
  const opened = slackDate(incident.opened_at);
  const acknowledged = whoAndWhen(incident.acknowledged_by, incident.acknowledged_at, b);
  const resolved = whoAndWhen(incident.resolved_by, incident.resolved_at, b);
  const fields = [
    str(incident.status) ? field('Status', str(incident.status)!, b) : null,
    window === null ? null : field('Window', `${formatWindow(window)}${scope && scope !== 'all' ? ` · ${scope}` : ''}`, b),
    nowLine === null ? null : field('Now vs expected', peakLine ? `${nowLine}\npeak ${peakLine}` : nowLine, b),
    p === null ? null : field('p or z', p, b),
    num(why.authors) === null ? null : field('Authors', formatNumber(num(why.authors)!), b),
    num(why.reach) === null ? null : field('Reach', formatNumber(num(why.reach)!), b),
    opened === null ? null : rawField('Opened', opened),
    terms.length === 0 ? null : field('Top terms', terms.join(', '), b),
    sources === null ? null : field('Top sources', sources, b),
    languages === null ? null : field('Languages', languages, b),
    tickets ? field('Tickets', `${plural(tickets, 'ticket')} linked, their alerts held back`, b) : null,
    acknowledged === null ? null : rawField('Acknowledged', acknowledged),
    resolved === null ? null : rawField('Resolved', resolved),
  ].filter((f): f is { type: 'mrkdwn'; text: string } => f !== null);
  blocks.push(...fieldSections(null, fields));

  const posts = records(incident.top_posts).slice(0, 3).map((p) => postLine(p, b));
  if (posts.length > 0) blocks.push(...listSections('Top posts', posts, b.section, 1));
  blocks.push(context);
  return blocks;
}

/** A daily digest (data.digest): each brand's day in a line, the incidents, and what quiet hours held back. */
function digestBlocks(digest: Record<string, unknown>, b: Budget): Block[] {
  const blocks: Block[] = [];
  const start = slackDate(digest.period_start);
  const end = slackDate(digest.period_end);
  const zone = str(digest.time_zone);
  if (start && end) blocks.push({ type: 'section', text: mrkdwn(`*Period:* ${start} – ${end}${zone ? ` (${fit(zone, 60)})` : ''}`) });

  const brands = records(digest.brands);
  const brandLines = brands.map((brand) => {
    const n = (key: string) => num(brand[key]) ?? 0;
    const name = fit(oneLine(str(brand.name) ?? str(brand.brand) ?? 'unknown'), b.item);
    return `*${name}*: ${plural(n('mentions'), 'mention')}, ${formatNumber(n('negative'))} negative · tickets ${formatNumber(n('tickets_opened'))} opened, `
      + `${formatNumber(n('tickets_solved'))} solved, ${formatNumber(n('tickets_open'))} open, ${formatNumber(n('sla_breached'))} SLA breached · `
      + plural(n('incidents'), 'incident');
  });
  if (brandLines.length > 0) blocks.push(...listSections('Brands', brandLines, b.section, 20));
  else blocks.push({ type: 'section', text: mrkdwn('No brand was heard in this period.') });

  const incidents = records(digest.incidents).map((i) => {
    const mark = SEVERITY_LABEL[String(i.severity)] ?? fit(String(i.severity), 20);
    const status = str(i.status) ?? 'unknown';
    return `• ${mark} · ${fit(oneLine(str(i.brand) ?? ''), 60)} · ${fit(status, 20)} — ${fit(oneLine(str(i.summary) ?? ''), b.item)}`;
  });
  if (incidents.length > 0) blocks.push(...listSections('Incidents', incidents, b.section, 10));

  const held = num(digest.held) ?? 0;
  if (held > 0) blocks.push({ type: 'context', elements: [mrkdwn(`${plural(held, 'alert')} held during quiet hours`)] });
  return blocks;
}

/** What the message says, above the buttons and the footer. */
function mainBlocks(type: string, summary: string, data: Record<string, unknown>, b: Budget): Block[] {
  const incident = record(data.incident);
  if (type.startsWith('incident.') && incident) return incidentBlocks(type, incident, b);

  const blocks: Block[] = [header(summary, b)];
  const digest = record(data.digest);
  if (type === 'digest' && digest) return [...blocks, ...digestBlocks(digest, b)];

  const ticket = record(data.ticket) as TicketDocument | null;
  const target = record(data.target);
  const destination = record(data.destination);
  if (ticket?.mention) blocks.push(...ticketBlocks(ticket, b));
  const rest = Object.fromEntries(
    Object.entries(data).filter(([k]) => !['alert', 'ticket', 'target', 'destination', 'change'].includes(k)),
  );
  if (target) blocks.push(...recordBlocks('Target', target, rest, b));
  else if (destination) blocks.push(...recordBlocks('Destination', destination, rest, b));
  return blocks;
}

/** What the message offers and how it can be sent: `actions` is the caller's word that presses can be heard. */
export interface SlackRenderOptions {
  subject?: string | null;
  openUrl?: string | null;
  actions?: boolean;
}

function button(actionId: string, text: string, extra: { value?: string; url?: string; style?: 'primary' | 'danger' }): Block {
  return { type: 'button', action_id: actionId, text: { type: 'plain_text', text, emoji: false }, ...extra };
}

/** The buttons: acknowledge (and "not relevant" for a ticket) while the subject is open, and the earshot link. */
function actionsBlock(type: string, data: Record<string, unknown>, options: SlackRenderOptions): Block | null {
  const elements: Block[] = [];
  const subject = options.subject ?? null;
  if (options.actions && subject) {
    const ticket = record(data.ticket);
    const incident = record(data.incident);
    // A button on a closed subject would only be refused when pressed: it is not offered.
    const open = subject.startsWith('ticket:')
      ? ticket !== null && (OPEN_TICKET_STATUSES as readonly unknown[]).includes(ticket.status)
      : subject.startsWith('incident:') && incident !== null && incident.status === 'open' && type !== 'incident.resolved';
    const kinds: ChannelAction['kind'][] = subject.startsWith('ticket:') ? ['ack', 'not_relevant'] : ['ack'];
    for (const kind of open ? kinds : []) {
      const value = encodeAction(kind, subject);
      // A value that would not come back readable (an id Telegram's 64 bytes could not carry) is no button.
      if (decodeAction(value) === null) continue;
      elements.push(kind === 'ack'
        ? button('earshot_ack', 'Acknowledge', { value, style: 'primary' })
        : button('earshot_not_relevant', 'Not relevant', { value }));
    }
  }
  const url = httpUrl(options.openUrl);
  if (url !== null && url.length <= SLACK_LIMITS.buttonUrl) elements.push(button('earshot_open', 'Open in earshot', { url }));
  return elements.length > 0 ? { type: 'actions', block_id: 'earshot_actions', elements } : null;
}

const jsonLength = (blocks: Block[]) => JSON.stringify(blocks).length;

/**
 * A channel message body (`{type, timestamp, data}`: a ticket, target or destination alert, an incident event
 * or a digest) as Block Kit, within Slack's limits, every value from outside escaped; `text` is the
 * notification's plain fallback. Buttons come with `options`.
 */
export function renderSlackMessage(body: Record<string, unknown>, options: SlackRenderOptions = {}): { text: string; blocks: unknown[] } {
  const data = record(body.data) ?? {};
  const alert = record(data.alert);
  const type = typeof body.type === 'string' ? body.type : 'earshot event';
  const summary = typeof alert?.summary === 'string' && alert.summary.trim() ? alert.summary.trim() : type;

  const time = typeof body.timestamp === 'string' ? ` · ${escapeMrkdwn(body.timestamp)}` : '';
  const actions = actionsBlock(type, data, options);
  const tail: Block[] = [
    ...(actions ? [actions] : []),
    { type: 'context', elements: [mrkdwn(fit(`earshot · ${type}`, 200) + time)] },
  ];
  // Each part has its own limit, and the whole message one more: a message too long in all is rendered again
  // with less of each text, and as a last resort loses its last blocks; the buttons and the footer stay.
  let main: Block[] = [];
  for (const scale of SCALES) {
    main = mainBlocks(type, summary, data, budgetAt(scale)).slice(0, SLACK_LIMITS.blocks - tail.length);
    if (jsonLength([...main, ...tail]) <= SLACK_LIMITS.totalChars) break;
  }
  while (main.length > 1 && jsonLength([...main, ...tail]) > SLACK_LIMITS.totalChars) main.pop();

  return { text: fit(summary, SLACK_LIMITS.sectionText), blocks: [...main, ...tail] };
}

/** Hides a URL that is a credential (the webhook's, a response_url), whole or its path, from an error. */
function hider(url: string, label: string): (text: string) => string {
  const path = (() => {
    try {
      return new URL(url).pathname;
    } catch {
      return url;
    }
  })();
  return (text) => {
    let out = text.replaceAll(url, `[${label} url]`);
    if (path.length > 1) out = out.replaceAll(path, `[${label} path]`);
    return out;
  };
}

/** POSTs a JSON body to a Slack URL (the incoming webhook, a response_url); Slack answers both the same way. */
async function postToSlack(url: string, payload: unknown, label: string, ctx: Pick<SendContext, 'now' | 'timeoutMs'>): Promise<DeliveryOutcome> {
  // The URL's path is the token: never let it into an error, whole or in part.
  const hide = hider(url, label);
  try {
    const res = await request(url, {
      dispatcher: outboundDispatcher(),
      method: 'POST',
      body: JSON.stringify(payload),
      headers: { 'content-type': 'application/json; charset=utf-8', 'user-agent': 'earshot-slack/0.1' },
      headersTimeout: ctx.timeoutMs,
      bodyTimeout: ctx.timeoutMs,
    });
    const text = (await res.body.text()).trim();
    const status = res.statusCode;
    if (status >= 200 && status < 300) return { ok: true, status };
    // 408, 429 and 5xx pass; every other answer (400 invalid_blocks, 403 invalid_token, 404 no_service,
    // 410 channel_is_archived, a redirect) will fail the same way again.
    const transient = status === 408 || status === 429 || status >= 500;
    // Slack's error is one short token; anything else is quoted briefly.
    const reason = /^[a-z0-9_]{1,80}$/.test(text) ? text : text.slice(0, 120).replace(/\s+/g, ' ');
    return {
      ok: false,
      status,
      error: hide(`HTTP ${status}${reason ? `: ${reason}` : ''}`),
      retryAfterMs: status === 429 || status === 503 ? parseRetryAfter(res.headers['retry-after'], ctx.now.getTime()) : null,
      gone: !transient,
    };
  } catch (err) {
    return { ok: false, status: null, error: hide((err as Error).message), retryAfterMs: null, gone: false };
  }
}

export async function sendSlackMessage(config: SlackConfig, message: ChannelMessage, ctx: SendContext): Promise<DeliveryOutcome> {
  await ctx.pace?.();
  const rendered = renderSlackMessage(message.body, { subject: message.subject, openUrl: message.openUrl, actions: message.actions });
  return postToSlack(config.url, rendered, 'webhook', ctx);
}

/**
 * Answers a button press: a short note only the presser sees, posted to the press's `response_url` (the card
 * itself stays; an incoming webhook's message cannot be edited). Throws an error that never names the url.
 */
export async function answerSlackAction(action: ChannelAction, text: string, ctx: { timeoutMs: number }): Promise<void> {
  if (action.replyTo === null) return;
  const outcome = await postToSlack(action.replyTo, { response_type: 'ephemeral', replace_original: false, text }, 'response', { now: new Date(), timeoutMs: ctx.timeoutMs });
  if (!outcome.ok) throw new Error(`slack: could not answer the button press: ${outcome.error}`);
}

function headerValue(headers: InboundRequest['headers'], name: string): string | undefined {
  // Node gives header names in lower case; a test or a proxy may not.
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : headers[key];
  return Array.isArray(value) ? value[0] : value;
}

/** Slack's request signature: `v0=` and the hex HMAC-SHA256 of `v0:{timestamp}:{raw body}` under the signing secret. */
function slackSignature(secret: string, timestamp: string, rawBody: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${rawBody}`).digest('hex')}`;
}

const blockActionsSchema = z.object({
  type: z.literal('block_actions'),
  user: z.object({ id: z.string().min(1), username: z.string().nullish(), name: z.string().nullish() }),
  response_url: z.string().nullish(),
  actions: z.array(z.object({ value: z.unknown().optional() })),
});

/**
 * Reads a press Slack posted to the app's Interactivity Request URL: the signature and a fresh timestamp first,
 * then the form's `payload`. Only `block_actions` carry presses; any other interaction is answered and ignored.
 * Slack wants a 200 within 3 seconds, so the answer is an empty one.
 */
export function receiveSlackAction(config: SlackConfig, req: InboundRequest, ctx: { now: Date }): ActionResult {
  if (!config.signingSecret) return { ok: false, status: 401, error: 'this channel has no signingSecret: Slack button presses cannot be verified' };
  const signature = headerValue(req.headers, 'x-slack-signature');
  const timestamp = headerValue(req.headers, 'x-slack-request-timestamp');
  if (!signature || !timestamp) return { ok: false, status: 401, error: 'missing X-Slack-Signature or X-Slack-Request-Timestamp header' };
  // A signed press captured once could be replayed forever: only a fresh timestamp is accepted.
  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(ctx.now.getTime() - Number(timestamp) * 1000) > SLACK_SIGNATURE_TOLERANCE_MS) {
    return { ok: false, status: 401, error: 'X-Slack-Request-Timestamp is more than 5 minutes away' };
  }
  if (!isSameSecret(signature, slackSignature(config.signingSecret, timestamp, req.rawBody))) {
    return { ok: false, status: 401, error: "bad X-Slack-Signature: is signingSecret the Slack app's Signing Secret?" };
  }

  const form = new URLSearchParams(req.rawBody);
  const raw = form.get('payload');
  if (raw === null) return { ok: false, status: 400, error: 'the body has no payload field (Slack posts interactions as a form)' };
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, status: 400, error: 'payload is not JSON' };
  }
  const type = record(json)?.type;
  if (typeof type !== 'string') return { ok: false, status: 400, error: 'payload has no type' };
  if (type !== 'block_actions') return { ok: true, actions: [] };
  const parsed = blockActionsSchema.safeParse(json);
  if (!parsed.success) return { ok: false, status: 400, error: `block_actions payload is malformed: ${z.prettifyError(parsed.error)}` };

  const { user, response_url: responseUrl } = parsed.data;
  const by = `slack:${cutPlain(oneLine(user.username || user.name || user.id), 100)}`;
  const replyTo = httpUrl(responseUrl) ?? null;
  const actions: ChannelAction[] = [];
  for (const action of parsed.data.actions) {
    // The "Open in earshot" button reports its press too, with no value: nothing to do.
    const decoded = typeof action.value === 'string' ? decodeAction(action.value) : null;
    if (decoded) actions.push({ ...decoded, by, replyTo });
  }
  return { ok: true, actions };
}

/**
 * An alert channel in Slack, through an incoming webhook; with the app's signing secret, buttons whose presses
 * come back through its Interactivity Request URL. A webhook's message cannot be edited or threaded, so the
 * events that only refresh a card are not sent (`cardUpdates` unset).
 */
export const slackConnector: Connector<SlackConfig> = {
  type: 'slack',
  configSchema: slackConfigSchema,
  minIntervalMs: () => MIN_INTERVAL_MS,
  sendMessage: sendSlackMessage,
  offersActions: (c) => c.signingSecret !== undefined,
  receiveAction: receiveSlackAction,
  answerAction: (_config, action, text, ctx) => answerSlackAction(action, text, ctx),
};
