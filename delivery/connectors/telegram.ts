import { request } from 'undici';
import { outboundDispatcher } from '../../lib/outbound.ts';
import { z } from 'zod';
import { parseRetryAfter } from '../../lib/backoff.ts';
import { isSameSecret, markSecret } from '../../lib/secret.ts';
import { slugSchema } from '../../lib/slug.ts';
import { OPEN_TICKET_STATUSES } from '../../store/schema.ts';
import { httpUrlSchema } from './config.ts';
import { escapeHtml, renderLink } from './html.ts';
import { record, renderRating, tidyText } from './text.ts';
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

// Telegram Bot API: POST {apiUrl}/bot{token}/{method} with a JSON body; answers { ok, result } or { ok: false,
// error_code, description, parameters: { retry_after } }. The token is in the URL, so no URL ever reaches an
// error, and every error text passes through `redact` besides.
//
// A subject (a ticket, an incident) keeps one card in the chat: the first message is sent, every later one
// edits it (`editMessageText`), buttons included. Button presses come back as callback queries, read either by
// long polling (`getUpdates`: works behind NAT, no public URL) or from Telegram's webhook posts.

export const TELEGRAM_UPDATE_MODES = ['polling', 'webhook', 'off'] as const;

export const telegramConfigSchema = z
  .strictObject({
    id: slugSchema,
    type: z.literal('telegram'),
    botToken: markSecret(z.string().regex(/^\d+:[A-Za-z0-9_-]+$/, 'must look like 123456:ABC… (from @BotFather)')),
    /** A user or group id (groups and channels are negative, -100…), or @channelusername. */
    chatId: z.union([
      z.string().regex(/^(-?\d+|@[A-Za-z0-9_]{5,})$/, 'must be a chat id like -1001234567890 or @channelname'),
      z.number().int(),
    ]),
    apiUrl: httpUrlSchema.default('https://api.telegram.org'),
    updates: z
      .enum(TELEGRAM_UPDATE_MODES)
      .default('polling')
      .meta({ description: 'how button presses reach earshot: polling (getUpdates, no public URL needed), webhook (Telegram posts to earshot), off (no buttons)' }),
    // Telegram's own rule for setWebhook's secret_token; it comes back in X-Telegram-Bot-Api-Secret-Token.
    webhookSecret: markSecret(z.string().regex(/^[A-Za-z0-9_-]{1,256}$/, 'must be 1-256 characters of A-Z, a-z, 0-9, _ and -'))
      .optional()
      .meta({ description: 'with updates: webhook, the secret_token given to setWebhook' }),
  })
  .superRefine((config, ctx) => {
    // Without the secret anyone who guesses the URL could press our buttons.
    if (config.updates === 'webhook' && config.webhookSecret === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['webhookSecret'],
        message: 'is required when updates is "webhook": the secret_token given to setWebhook, which Telegram sends back with every update',
      });
    }
  });

export type TelegramConfig = z.output<typeof telegramConfigSchema>;

/** `text` is 1-4096 characters after entities parsing; the HTML source is kept within it, which is stricter. */
export const TELEGRAM_TEXT_LIMIT = 4096;
/** callback_data is 1-64 bytes. */
export const TELEGRAM_CALLBACK_DATA_LIMIT = 64;
/** answerCallbackQuery's text is 0-200 characters. */
export const TELEGRAM_ANSWER_LIMIT = 200;
const EXCERPT_CHARS = 600;
const POST_EXCERPT_CHARS = 200;
/** The longest list (digest brands, incidents) before the text budget cuts it. */
const LIST_ITEMS = 25;

// Rendering: Telegram HTML has no <p> or <br>; newlines are kept as they are. Every outside value is escaped.

/** At most `max` code points (no surrogate pair is split), with "…" when cut. */
function cut(text: string, max: number): string {
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  return max <= 0 ? '' : `${chars.slice(0, max - 1).join('')}…`;
}

function str(value: unknown): string | null {
  if (typeof value === 'string') return value === '' ? null : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** "2026-11-22 09:30 UTC": a card is read by people, to the minute. */
function utc(value: unknown): string | null {
  const s = str(value);
  if (s === null) return null;
  const date = new Date(s);
  return Number.isNaN(date.getTime()) ? s : `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** A digest's bounds in the channel's own time zone, where its day begins and ends; UTC if the zone is unknown. */
function inZone(value: unknown, timeZone: string | null): string | null {
  const s = str(value);
  if (s === null) return null;
  const date = new Date(s);
  if (Number.isNaN(date.getTime())) return s;
  if (timeZone === null) return utc(s);
  try {
    return new Intl.DateTimeFormat('en-GB', {
      timeZone, day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
    }).format(date);
  } catch {
    return utc(s);
  }
}

/** 12,345 and 1.2: counts as people read them. */
function amount(value: number): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: Math.abs(value) < 10 ? 1 : 0 });
}

function windowText(minutes: number): string {
  if (minutes % 1440 === 0) return `${minutes / 1440} d`;
  if (minutes % 60 === 0) return `${minutes / 60} h`;
  return `${minutes} min`;
}

function pValue(p: number): string {
  return p < 0.001 ? p.toExponential(1) : String(Number(p.toPrecision(2)));
}

/**
 * A link, or its label alone when the URL is absent, not http(s), or too long to fit: a URL cannot be cut, and
 * one of thousands of characters would leave no room for the message.
 */
function link(url: string | null, label: string): string {
  return renderLink(url !== null && url.length <= 1000 ? url : null, label);
}

interface Budget {
  /** Longest plain value of any one field (the summary, an error…). */
  field: number;
  /** Longest plain excerpt of the mention's text. */
  text: number;
  /** Most entries of a list (digest brands and incidents, top terms). */
  items: number;
}

/** How a body's values become lines: each value is cut to the budget, then escaped. */
function writer(budget: Budget) {
  const f = (value: string) => escapeHtml(cut(value, budget.field));
  const line = (label: string, value: unknown) => {
    const s = str(value);
    return s === null ? null : `${escapeHtml(label)}: ${f(s)}`;
  };
  const joined = (...parts: (string | null)[]) => parts.filter((p): p is string => p !== null).join(' · ') || null;
  /** The first `budget.items` entries, and how many were left out. */
  const some = <T>(items: readonly T[], max = budget.items): { shown: T[]; more: string | null } => ({
    shown: items.slice(0, max),
    more: items.length > max ? `…and ${items.length - max} more` : null,
  });
  return { f, line, joined, some };
}

type Lines = (string | null)[];

const TICKET_FINAL: Record<string, string> = { solved: '✅ Solved', closed: '✅ Closed', ignored: '✖ Not relevant', spam: '🚫 Spam' };

function renderTicket(ticket: Record<string, unknown>, alert: Record<string, unknown> | null, budget: Budget): Lines {
  const { f, line, joined } = writer(budget);
  const mention = record(ticket.mention) ?? {};
  const author = record(mention.author);
  const authorName = author ? str(author.name) ?? str(author.handle) : null;
  const handle = author && str(author.handle) ? `@${str(author.handle)!.replace(/^@/, '')}` : null;
  const authorText = authorName === null ? null : handle && handle !== `@${authorName}` ? `${authorName} (${handle})` : authorName;
  const rating = typeof mention.rating === 'number' ? mention.rating : null;
  const status = str(ticket.status);
  // An edited card must not still say "New ticket" once the ticket is done: a final status leads the headline.
  const final = status !== null && Object.hasOwn(TICKET_FINAL, status) ? TICKET_FINAL[status]! : null;
  const title = final !== null
    ? `${final}: ${str(ticket.title) ?? str(alert?.summary) ?? `ticket ${str(ticket.id) ?? ''}`}`
    : str(alert?.summary) ?? str(ticket.title) ?? 'earshot ticket';
  const reason = str(ticket.status_reason);
  const lines: Lines = [
    `<b>${f(title)}</b>`,
    joined(line('Brand', ticket.brand), line('Team', ticket.team)),
    joined(line('Priority', ticket.priority), line('Status', status === null ? null : reason ? `${status} (${reason})` : status), line('Assignee', ticket.assignee)),
    joined(line('Source', mention.source), line('Author', authorText)),
    rating !== null ? `Rating: ${renderRating(rating)}` : null,
    ticket.breached === true ? line('⚠ SLA missed', list(ticket.breaches).map(String).join(', ').replaceAll('_', ' ') || 'yes') : null,
    line('Solved', utc(ticket.solved_at)),
  ];
  const mentionTitle = str(mention.title);
  const text = str(mention.text);
  const excerpt = [mentionTitle ? `<b>${f(mentionTitle)}</b>` : null, text ? escapeHtml(cut(tidyText(text), budget.text)) : null]
    .filter(Boolean)
    .join('\n');
  if (excerpt !== '') lines.push('', excerpt);
  const url = str(mention.url);
  if (url) lines.push('', link(url, `Open on ${cut(str(mention.source) ?? 'the source', budget.field)}`));
  lines.push(line('Ticket', ticket.id));
  return lines;
}

const SEVERITY: Record<string, string> = { critical: '🔴 Critical', warning: '🟠 Warning' };
const INCIDENT_STATUS: Record<string, string> = { acknowledged: '👀 Acknowledged', resolved: '✅ Resolved' };

function renderIncident(incident: Record<string, unknown>, alert: Record<string, unknown> | null, budget: Budget): Lines {
  const { f, line, joined } = writer(budget);
  const severity = str(incident.severity);
  const status = str(incident.status);
  const word = severity !== null && Object.hasOwn(SEVERITY, severity) ? SEVERITY[severity]! : severity ? `⚠ ${severity}` : '⚠ Incident';
  const state = status !== null && Object.hasOwn(INCIDENT_STATUS, status) ? INCIDENT_STATUS[status]! : null;
  const brand = str(incident.brand_name) ?? str(incident.brand);
  const summary = str(alert?.summary) ?? `${brand ?? 'a brand'}: negative mentions above normal`;
  const lines: Lines = [`<b>${[state, word, f(summary)].filter(Boolean).join(' · ')}</b>`];

  const scope = str(incident.scope);
  lines.push(joined(line('Status', status), line('Brand', brand), scope && scope !== 'all' ? line('Scope', scope.replace(/^source:/, '') + ' only') : null));

  // "Now vs expected": the evidence a PR lead can check, in the detector's own numbers.
  const why = record(incident.why);
  if (why) {
    const observed = num(why.observed);
    const expected = num(why.expected);
    const minutes = num(why.window_minutes);
    const lift = num(why.lift);
    const p = num(why.p_value);
    const z = num(why.z);
    const authors = num(why.authors);
    const reach = num(why.reach);
    const now = observed !== null && expected !== null
      ? `Now: ${amount(observed)} negative${minutes !== null ? ` in ${windowText(minutes)}` : ''} vs ${amount(expected)} expected${lift !== null ? ` (×${Number(lift.toFixed(1))})` : ''}`
      : null;
    lines.push(joined(
      now,
      p !== null ? `p = ${pValue(p)}` : z !== null ? `z = ${z.toFixed(1)}` : null,
      authors !== null ? `${amount(authors)} author${authors === 1 ? '' : 's'}` : null,
      reach !== null ? `reach ${amount(reach)}` : null,
    ));
    const rules = list(why.rules).map(String);
    lines.push(rules.length > 0 ? line('Rules', rules.join(', ')) : null);
  }
  const peak = record(incident.peak);
  if (peak && num(peak.observed) !== null && num(peak.expected) !== null) {
    lines.push(`Peak: ${amount(num(peak.observed)!)} vs ${amount(num(peak.expected)!)} expected`);
  }
  lines.push(joined(
    line('Opened', utc(incident.opened_at)),
    line('Escalated', utc(incident.escalated_at) === null ? null : `${utc(incident.escalated_at)}${str(incident.escalation_reason) === 'unacknowledged' ? ' (nobody acknowledged it)' : ''}`),
  ));
  if (str(incident.acknowledged_at) || str(incident.acknowledged_by)) {
    lines.push(`Acknowledged by ${f(str(incident.acknowledged_by) ?? 'someone')}${utc(incident.acknowledged_at) ? ` at ${utc(incident.acknowledged_at)}` : ''}`);
  }
  if (str(incident.resolved_at) || status === 'resolved') {
    const note = str(incident.resolution_note);
    lines.push(`Resolved by ${f(str(incident.resolved_by) ?? 'someone')}${utc(incident.resolved_at) ? ` at ${utc(incident.resolved_at)}` : ''}${note ? `: ${f(note)}` : ''}`);
  }

  const terms = list(incident.top_terms).map(str).filter((t): t is string => t !== null).slice(0, Math.min(10, budget.items));
  lines.push(terms.length > 0 ? line('Top terms', terms.join(', ')) : null);
  const counts = (items: unknown, key: string) =>
    list(items).map(record).filter((r): r is Record<string, unknown> => r !== null && str(r[key]) !== null)
      .slice(0, Math.min(10, budget.items))
      .map((r) => `${f(str(r[key])!)} ${num(r.count) ?? '?'}`)
      .join(' · ');
  const sources = counts(incident.top_sources, 'source');
  lines.push(sources ? `Sources: ${sources}` : null);
  const languages = counts(incident.languages, 'language');
  lines.push(languages ? `Languages: ${languages}` : null);
  const tickets = num(incident.tickets);
  lines.push(tickets ? `Tickets linked: ${tickets}` : null);

  const posts = list(incident.top_posts).map(record).filter((r): r is Record<string, unknown> => r !== null).slice(0, 3);
  if (posts.length > 0) {
    lines.push('', '<b>Top posts</b>');
    posts.forEach((post, i) => {
      const label = [str(post.source), str(post.author)].filter(Boolean).join(' · ') || 'post';
      const reach = num(post.reach);
      const excerpt = str(post.excerpt);
      lines.push(
        `${i + 1}. ${link(str(post.url), cut(label, Math.min(budget.field, 80)))}${reach !== null ? ` (reach ${amount(reach)})` : ''}` +
          (excerpt ? `: ${escapeHtml(cut(tidyText(excerpt).replace(/\n+/g, ' '), Math.min(POST_EXCERPT_CHARS, budget.text)))}` : ''),
      );
    });
  }
  lines.push('', line('Incident', incident.id));
  return lines;
}

function renderDigest(digest: Record<string, unknown>, alert: Record<string, unknown> | null, budget: Budget): Lines {
  const { f, line, joined, some } = writer(budget);
  const zone = str(digest.time_zone);
  const title = str(alert?.summary) ?? `Daily digest${str(digest.channel) ? ` for ${str(digest.channel)}` : ''}`;
  const from = inZone(digest.period_start, zone);
  const to = inZone(digest.period_end, zone);
  const lines: Lines = [`<b>${f(title)}</b>`, from && to ? `Period: ${f(from)} – ${f(to)}${zone ? ` (${f(zone)})` : ''}` : null];

  const brands = some(list(digest.brands).map(record).filter((r): r is Record<string, unknown> => r !== null));
  for (const b of brands.shown) {
    const n = (key: string) => num(b[key]) ?? 0;
    lines.push(
      '',
      `<b>${f(str(b.name) ?? str(b.brand) ?? 'brand')}</b>: ${n('mentions')} mentions, ${n('negative')} negative`,
      `Tickets: ${n('tickets_opened')} opened · ${n('tickets_solved')} solved · ${n('tickets_open')} open${n('sla_breached') > 0 ? ` · ⚠ ${n('sla_breached')} SLA missed` : ''}` +
        (n('incidents') > 0 ? ` · Incidents: ${n('incidents')}` : ''),
    );
  }
  if (brands.more) lines.push(brands.more);
  if (brands.shown.length === 0) lines.push('', 'No brand had mentions in the period.');

  const incidents = some(list(digest.incidents).map(record).filter((r): r is Record<string, unknown> => r !== null));
  if (incidents.shown.length > 0) {
    lines.push('', '<b>Incidents</b>');
    for (const i of incidents.shown) {
      const severity = str(i.severity);
      const icon = severity !== null && Object.hasOwn(SEVERITY, severity) ? SEVERITY[severity]!.split(' ')[0]! : '⚠';
      lines.push(`${icon} ${joined(str(i.brand) ? f(str(i.brand)!) : null, str(i.status) ? f(str(i.status)!) : null) ?? ''}: ${f(str(i.summary) ?? str(i.id) ?? '')}`);
    }
    if (incidents.more) lines.push(incidents.more);
  }
  const held = num(digest.held);
  if (held) lines.push('', `Held during quiet hours: ${held}`);
  return lines;
}

function renderWith(body: Record<string, unknown>, budget: Budget): string {
  const data = record(body.data) ?? {};
  const alert = record(data.alert);
  const { f, line, joined } = writer(budget);

  const ticket = record(data.ticket);
  const incident = record(data.incident);
  const digest = record(data.digest);
  const target = record(data.target);
  const destination = record(data.destination);
  let lines: Lines;
  if (ticket) lines = renderTicket(ticket, alert, budget);
  else if (incident) lines = renderIncident(incident, alert, budget);
  else if (digest) lines = renderDigest(digest, alert, budget);
  else {
    const title = str(alert?.summary) ?? str(body.type) ?? 'earshot alert';
    lines = [`<b>${f(title)}</b>`];
    if (target) {
      lines.push(
        joined(line('Target', target.id), line('Source', target.source), line('Brand', target.brand)),
        joined(line('State', target.state), line('Failures in a row', target.consecutive_errors)),
        line('Last success', target.last_success_at ?? 'never'),
        line('Latest mention', target.latest_mention_at),
        line('Last error', target.last_error),
      );
    } else if (destination) {
      lines.push(
        line(`Destination (${str(destination.kind) ?? 'unknown'})`, destination.id),
        line('Failing since', data.failing_since),
        line('Failures in a row', data.consecutive_failures),
        line('Last status', data.last_status),
        line('Last error', data.last_error),
      );
    }
  }
  return lines.filter((l): l is string => l !== null).join('\n').replace(/\n{3,}/g, '\n\n').trim();
}

/**
 * The message for a channel body (`{ type, timestamp, data: { alert, ticket? | incident? | digest? | target? |
 * destination? } }`), as Telegram HTML within 4096 characters: plain values are cut before they are escaped, so
 * no tag or entity is ever broken.
 */
export function renderTelegramText(body: Record<string, unknown>): string {
  const budget: Budget = { field: TELEGRAM_TEXT_LIMIT, text: EXCERPT_CHARS, items: LIST_ITEMS };
  for (;;) {
    const html = renderWith(body, budget);
    const over = html.length - TELEGRAM_TEXT_LIMIT;
    if (over <= 0) return html;
    // The excerpt gives way first, then long lists, then every field; each plain character is at least one HTML
    // character.
    if (budget.text > 100) budget.text = Math.max(100, budget.text - over);
    else if (budget.items > 3) budget.items = Math.max(3, Math.min(budget.items - 1, Math.floor((budget.items * TELEGRAM_TEXT_LIMIT) / html.length)));
    else if (budget.field > 40) {
      const current = Math.min(budget.field, longestField(html));
      budget.field = Math.max(40, Math.min(current - 1, Math.floor((current * TELEGRAM_TEXT_LIMIT) / html.length)));
    }
    else return escapeHtml(cut(String(body.type ?? 'earshot alert'), 200));
  }
}

/** An upper bound of the longest plain value in the rendered text, so the first cut bites. */
function longestField(html: string): number {
  return html.split('\n').reduce((max, l) => Math.max(max, l.length), 0);
}

// Buttons.

export type TelegramButton = { text: string; callback_data: string } | { text: string; url: string };

/** Callback data Telegram takes (1-64 bytes) and that we can read back; anything else is never sent. */
function callbackButton(text: string, kind: ChannelAction['kind'], subject: string): TelegramButton | null {
  const data = encodeAction(kind, subject);
  return Buffer.byteLength(data) <= TELEGRAM_CALLBACK_DATA_LIMIT && decodeAction(data) !== null ? { text, callback_data: data } : null;
}

/**
 * Telegram refuses a whole message whose URL button it does not like, and it does not like a host without a dot
 * (localhost, an intranet name): such a link is left out rather than losing the alert.
 */
function urlButtonTakes(url: string): boolean {
  try {
    const parsed = new URL(url);
    return (parsed.protocol === 'https:' || parsed.protocol === 'http:') && parsed.hostname.includes('.');
  } catch {
    return false;
  }
}

/**
 * The card's inline keyboard: what is still left to do about its subject (acknowledge an open incident; take
 * or dismiss a ticket still being worked on), and the subject in earshot. Empty when nothing is left.
 */
export function telegramKeyboard(config: TelegramConfig, message: ChannelMessage): TelegramButton[][] {
  const rows: TelegramButton[][] = [];
  const data = record(message.body.data) ?? {};
  const subject = message.subject;
  // Buttons only where a press can be heard: with updates off nobody would ever answer one.
  if (message.actions && config.updates !== 'off' && subject !== null) {
    const incident = record(data.incident);
    const ticket = record(data.ticket);
    const row: (TelegramButton | null)[] = [];
    if (incident && subject.startsWith('incident:') && incident.status === 'open') {
      row.push(callbackButton('✔ Acknowledge', 'ack', subject));
    } else if (ticket && subject.startsWith('ticket:') && (OPEN_TICKET_STATUSES as readonly unknown[]).includes(ticket.status)) {
      row.push(callbackButton('✔ Take it', 'ack', subject), callbackButton('✖ Not relevant', 'not_relevant', subject));
    }
    const buttons = row.filter((b): b is TelegramButton => b !== null);
    if (buttons.length > 0) rows.push(buttons);
  }
  if (message.openUrl !== null && urlButtonTakes(message.openUrl)) rows.push([{ text: 'Open in earshot', url: message.openUrl }]);
  return rows;
}

// Calling the API.

const answerSchema = z.object({
  ok: z.boolean(),
  result: z.unknown().optional(),
  error_code: z.number().int().optional(),
  description: z.string().optional(),
  parameters: z.object({ retry_after: z.number().nonnegative().optional() }).passthrough().optional(),
});

interface ApiAnswer {
  status: number;
  /** `{ ok: true }` with a 2xx. */
  ok: boolean;
  result: unknown;
  /** Telegram's error_code, else the HTTP status. */
  code: number;
  description: string | null;
  /** "HTTP 400: Bad Request: chat not found", for an error. */
  detail: string;
  retryAfterMs: number | null;
}

/** Hides the bot token, whole or its secret half, wherever a text might carry it. */
function redactor(config: TelegramConfig): (text: string) => string {
  const secretHalf = config.botToken.slice(config.botToken.indexOf(':') + 1);
  return (text) => {
    const out = text.replaceAll(config.botToken, '[bot token]');
    return secretHalf.length >= 8 ? out.replaceAll(secretHalf, '[bot token]') : out;
  };
}

/** One Bot API call; throws only when no answer came (network, timeout, abort). */
async function callApi(
  config: TelegramConfig,
  method: string,
  params: Record<string, unknown>,
  opts: { timeoutMs: number; now: Date | null; signal?: AbortSignal },
): Promise<ApiAnswer> {
  const res = await request(`${config.apiUrl.replace(/\/+$/, '')}/bot${config.botToken}/${method}`, {
    dispatcher: outboundDispatcher(),
    method: 'POST',
    body: JSON.stringify(params),
    headers: { 'content-type': 'application/json', accept: 'application/json', 'user-agent': 'earshot-telegram/0.1' },
    headersTimeout: opts.timeoutMs,
    bodyTimeout: opts.timeoutMs,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const raw = await res.body.text();
  const status = res.statusCode;
  let parsed: z.output<typeof answerSchema> | null = null;
  try {
    parsed = answerSchema.safeParse(JSON.parse(raw)).data ?? null;
  } catch {
    parsed = null;
  }
  const ok = status >= 200 && status < 300 && parsed?.ok === true;
  const code = parsed?.error_code ?? status;
  const description = parsed?.description ?? null;
  const detail = `HTTP ${status}${description ? `: ${description.slice(0, 200)}` : raw ? `: ${raw.slice(0, 200)}` : ''}`;
  let retryAfterMs: number | null = null;
  if (code === 429 || status === 429) {
    const seconds = parsed?.parameters?.retry_after;
    const header = res.headers['retry-after'];
    // Without a clock (long polling, answers: their contract gives none) only a Retry-After in seconds is read.
    const delta = typeof header === 'string' && /^\s*\d+\s*$/.test(header) ? header : undefined;
    retryAfterMs = seconds !== undefined ? seconds * 1000 : opts.now ? parseRetryAfter(header, opts.now.getTime()) : parseRetryAfter(delta, 0);
  }
  return { status, ok, result: parsed?.result, code, description, detail, retryAfterMs };
}

/** A failed answer as the outbox's retry policy. */
function failure(config: TelegramConfig, method: string, answer: ApiAnswer): DeliveryOutcome & { ok: false } {
  const redact = redactor(config);
  const fail = (error: string, gone: boolean, retryAfterMs: number | null = null): DeliveryOutcome & { ok: false } => ({
    ok: false, status: answer.status, error: redact(`telegram ${method}: ${error}`), retryAfterMs, gone,
  });
  const { status, code, detail } = answer;
  if (code === 429 || status === 429) return fail(detail, false, answer.retryAfterMs);
  if (status >= 500 || status === 408 || code >= 500) return fail(detail, false);
  // 400 (chat not found, can't parse entities), 401 (bad token), 403 (blocked, kicked), 404: never better on retry.
  // The HTTP status and error_code agree in practice; either one in 4xx means the same.
  if (status >= 400 || (code >= 400 && code < 500)) return fail(detail, true);
  // A 2xx that is not { ok: true, result } and names no error: not what the API answers; try again later.
  return fail(`unreadable answer: ${detail}`, false);
}

function unreachable(config: TelegramConfig, method: string, err: unknown): DeliveryOutcome {
  return { ok: false, status: null, error: redactor(config)(`telegram ${method}: ${(err as Error).message}`), retryAfterMs: null, gone: false };
}

// Telegram's descriptions (the Bot API documents none of them): the card is as wanted already; the card is gone
// (deleted in the chat) or may no longer be edited, so a fresh one takes its place.
const NOT_MODIFIED = /message is not modified/i;
const CARD_GONE = /message to edit not found|message can't be edited|MESSAGE_ID_INVALID/i;

/**
 * Sends the message, or edits its subject's card in place. Every request waits for the chat's pace first:
 * an edit that falls back to a fresh message makes two.
 */
async function deliverMessage(config: TelegramConfig, message: ChannelMessage, ctx: SendContext): Promise<DeliveryOutcome> {
  const text = renderTelegramText(message.body);
  const keyboard = telegramKeyboard(config, message);
  const base = { chat_id: config.chatId, text, parse_mode: 'HTML', link_preview_options: { is_disabled: true } };
  const opts = { timeoutMs: ctx.timeoutMs, now: ctx.now };

  const card = message.card !== null && /^\d{1,15}$/.test(message.card) ? Number(message.card) : null;
  if (card !== null) {
    // An edit without reply_markup drops the keyboard; an empty one says so outright, so buttons no longer due
    // (a resolved incident, a solved ticket) disappear.
    const markup = keyboard.length > 0 || message.actions || message.openUrl !== null ? { reply_markup: { inline_keyboard: keyboard } } : {};
    await ctx.pace?.();
    let answer: ApiAnswer;
    try {
      answer = await callApi(config, 'editMessageText', { ...base, message_id: card, ...markup }, opts);
    } catch (err) {
      return unreachable(config, 'editMessageText', err);
    }
    // Not modified: a retry after an edit that landed, or an event that changed nothing shown. Either way the
    // card says what it should.
    if (answer.ok || (answer.code === 400 && NOT_MODIFIED.test(answer.description ?? ''))) {
      // Recorded as delivered with 200: the 400 is only Telegram's way of saying the card is as it should be.
      return { ok: true, status: answer.ok ? answer.status : 200, externalId: String(card) };
    }
    if (!(answer.code === 400 && CARD_GONE.test(answer.description ?? ''))) return failure(config, 'editMessageText', answer);
  }

  await ctx.pace?.();
  let answer: ApiAnswer;
  try {
    answer = await callApi(config, 'sendMessage', { ...base, ...(keyboard.length > 0 ? { reply_markup: { inline_keyboard: keyboard } } : {}) }, opts);
  } catch (err) {
    return unreachable(config, 'sendMessage', err);
  }
  const sent = z.object({ message_id: z.number().int() }).safeParse(answer.result);
  if (answer.ok && sent.success) return { ok: true, status: answer.status, externalId: String(sent.data.message_id) };
  return failure(config, 'sendMessage', answer);
}

// Button presses.

/** A Bot API call that failed, for the long poll and answers: the token is never in its message. */
export class TelegramApiError extends Error {
  constructor(
    message: string,
    /** The HTTP status; null when no answer came. */
    readonly status: number | null,
    /** Flood control's retry_after; null when none was given. */
    readonly retryAfterMs: number | null,
  ) {
    super(message);
    this.name = 'TelegramApiError';
  }
}

const callbackQuerySchema = z.object({
  id: z.string().min(1),
  from: z.object({ id: z.number().int(), username: z.string().optional(), first_name: z.string().optional() }).passthrough(),
  data: z.string().optional(),
  // Absent for a button under an inline-mode message, which is not ours.
  message: z
    .object({ message_id: z.number().int(), chat: z.object({ id: z.number().int(), username: z.string().optional() }).passthrough() })
    .passthrough()
    .optional(),
}).passthrough();

const updateSchema = z.object({ update_id: z.number().int(), callback_query: z.unknown().optional() }).passthrough();

/** Is this the configured chat? Compared as strings (ids exceed 2^31); a @name matches the chat's username. */
function isOurChat(config: TelegramConfig, chat: { id: number; username?: string | undefined }): boolean {
  const configured = String(config.chatId);
  if (configured.startsWith('@')) return chat.username !== undefined && `@${chat.username}`.toLowerCase() === configured.toLowerCase();
  return String(chat.id) === configured;
}

/** Who pressed, as an incident or ticket records it: "telegram:@anna", or "telegram:Anna (4403119)" without a username. */
function presser(from: z.output<typeof callbackQuerySchema>['from']): string {
  if (from.username) return `telegram:@${from.username}`;
  // A display name is anyone's free text: no control characters, and not a page of it.
  const name = cut((from.first_name ?? '').replace(/[\p{Cc}\p{Cf}\s]+/gu, ' ').trim(), 64);
  return name === '' ? `telegram:${from.id}` : `telegram:${name} (${from.id})`;
}

/**
 * The action of one update: null when the update is not a press of one of our buttons in the configured chat
 * (another kind of update, another chat, foreign data). Throws on a callback query that is not one.
 */
function actionOf(config: TelegramConfig, update: z.output<typeof updateSchema>): ChannelAction | null {
  if (update.callback_query === undefined) return null;
  const query = callbackQuerySchema.parse(update.callback_query);
  if (!query.message || !isOurChat(config, query.message.chat) || query.data === undefined) return null;
  const decoded = decodeAction(query.data);
  if (!decoded) return null;
  return { kind: decoded.kind, subject: decoded.subject, by: presser(query.from), replyTo: query.id };
}

function headerOf(headers: InboundRequest['headers'], name: string): string | null {
  const value = headers[name];
  return typeof value === 'string' ? value : null;
}

/** Reads Telegram's webhook post: one Update, authenticated by the secret_token given to setWebhook. */
function receiveTelegramAction(config: TelegramConfig, req: InboundRequest): ActionResult {
  if (config.updates !== 'webhook' || config.webhookSecret === undefined) {
    return { ok: false, status: 401, error: 'this Telegram channel does not take updates by webhook' };
  }
  const given = headerOf(req.headers, 'x-telegram-bot-api-secret-token');
  if (given === null || !isSameSecret(given, config.webhookSecret)) {
    return { ok: false, status: 401, error: 'missing or wrong X-Telegram-Bot-Api-Secret-Token' };
  }
  let json: unknown;
  try {
    json = JSON.parse(req.rawBody);
  } catch {
    return { ok: false, status: 400, error: 'the body is not JSON' };
  }
  const update = updateSchema.safeParse(json);
  if (!update.success) return { ok: false, status: 400, error: 'not a Telegram Update (no update_id)' };
  try {
    const action = actionOf(config, update.data);
    return { ok: true, actions: action ? [action] : [] };
  } catch {
    return { ok: false, status: 400, error: 'a malformed callback_query' };
  }
}

/** Long polling: getUpdates for callback queries only; `offset` confirms every update before it. */
async function pollTelegramActions(
  config: TelegramConfig,
  offset: number | null,
  ctx: { waitSeconds: number; signal?: AbortSignal },
): Promise<{ actions: ChannelAction[]; offset: number | null }> {
  const waitSeconds = Math.max(0, Math.floor(ctx.waitSeconds));
  if (config.updates !== 'polling') {
    // Presses reach this channel another way (webhook) or not at all; polling would steal the webhook's updates
    // or 409. A caller's loop waits as it would on a quiet chat instead of spinning.
    await quietWait(waitSeconds * 1000, ctx.signal);
    return { actions: [], offset };
  }
  const redact = redactor(config);
  let answer: ApiAnswer;
  try {
    answer = await callApi(config, 'getUpdates', {
      ...(offset !== null ? { offset } : {}),
      timeout: waitSeconds,
      allowed_updates: ['callback_query'],
    }, {
      // Telegram holds the request up to `timeout` seconds; the margin is for the answer to travel.
      timeoutMs: (waitSeconds + 15) * 1000,
      now: null,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
  } catch (err) {
    if (ctx.signal?.aborted) throw err;
    throw new TelegramApiError(redact(`telegram getUpdates: ${(err as Error).message}`), null, null);
  }
  const updates = z.array(z.unknown()).safeParse(answer.result);
  if (!answer.ok || !updates.success) {
    // 409: another getUpdates of this bot, or a webhook is set; 401: the token; 5xx: Telegram. The caller backs off.
    throw new TelegramApiError(redact(`telegram getUpdates: ${answer.ok ? `unreadable answer: ${answer.detail}` : answer.detail}`), answer.status, answer.retryAfterMs);
  }
  const actions: ChannelAction[] = [];
  let next = offset;
  for (const item of updates.data) {
    const update = updateSchema.safeParse(item);
    if (!update.success) continue;
    next = Math.max(next ?? 0, update.data.update_id + 1);
    try {
      const action = actionOf(config, update.data);
      if (action) actions.push(action);
    } catch {
      // A malformed update is skipped, and confirmed with the rest: it would come back forever otherwise.
    }
  }
  return { actions, offset: next };
}

function quietWait(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Code points and UTF-16 units both within `max`: Telegram's count of an emoji is not documented. */
function cutUnits(text: string, max: number): string {
  let out = cut(text, max);
  while (out.length > max) out = cut(out, Array.from(out).length - 1);
  return out;
}

/** answerCallbackQuery: stops the presser's spinner and shows them a short text. */
async function answerTelegramAction(config: TelegramConfig, action: ChannelAction, text: string, ctx: { timeoutMs: number }): Promise<void> {
  if (action.replyTo === null) return;
  const redact = redactor(config);
  let answer: ApiAnswer;
  try {
    answer = await callApi(config, 'answerCallbackQuery', {
      callback_query_id: action.replyTo,
      text: cutUnits(text, TELEGRAM_ANSWER_LIMIT),
    }, { timeoutMs: ctx.timeoutMs, now: null });
  } catch (err) {
    throw new TelegramApiError(redact(`telegram answerCallbackQuery: ${(err as Error).message}`), null, null);
  }
  // "query is too old": Telegram waits only seconds for the answer; the action itself stands.
  if (!answer.ok) throw new TelegramApiError(redact(`telegram answerCallbackQuery: ${answer.detail}`), answer.status, answer.retryAfterMs);
}

/**
 * Telegram: one HTML card per subject in a chat, group or channel, edited in place as the subject changes, with
 * inline buttons whose presses come back by long polling or webhook; paced per chat.
 */
export const telegramConnector: Connector<TelegramConfig> = {
  type: 'telegram',
  configSchema: telegramConfigSchema,
  // Bot FAQ: about one message per second in a chat, at most 20 per minute in a group. A private chat is the only
  // kind with a positive id; a @name is a channel or a public supergroup, so it is paced as a group. Edits count
  // as messages. The outbox keeps a row that is early waiting for its slot: queued, never dropped.
  minIntervalMs: (c) => (/^\d+$/.test(String(c.chatId)) ? 1000 : 3000),
  sendMessage: deliverMessage,
  cardUpdates: 'edit',
  offersActions: (c) => c.updates !== 'off',
  pollsActions: (c) => c.updates === 'polling',
  receiveAction: (config, req) => receiveTelegramAction(config, req),
  pollActions: pollTelegramActions,
  answerAction: answerTelegramAction,
};
