import { request } from 'undici';
import { z } from 'zod';
import type { TicketDocument } from '../../documents/ticket.ts';
import { parseRetryAfter } from '../../lib/backoff.ts';
import { markSecret } from '../../lib/secret.ts';
import { slugSchema } from '../../lib/slug.ts';
import { httpUrlSchema } from './config.ts';
import { renderRating } from './text.ts';
import type { ChannelMessage, Connector, DeliveryOutcome, SendContext } from './types.ts';

// Slack incoming webhooks: POST {text, blocks} as JSON to the webhook URL; 200 "ok", else an HTTP status with a
// short plain-text error (invalid_payload, invalid_blocks, no_text, invalid_token, action_prohibited,
// channel_not_found, no_service, channel_is_archived), 429 with Retry-After. The URL itself is the credential.

export const slackConfigSchema = z.strictObject({
  id: slugSchema,
  type: z.literal('slack'),
  // Anyone holding the incoming webhook URL can post to the channel: it is the secret.
  url: markSecret(httpUrlSchema),
});

export type SlackConfig = z.output<typeof slackConfigSchema>;

// Block Kit limits (Slack's reference): 50 blocks a message, 3000 characters of section text, 150 of header
// text, 10 section fields of 2000 characters each, 10 context elements.
export const SLACK_LIMITS = { blocks: 50, sectionText: 3000, headerText: 150, fields: 10, fieldText: 2000, contextElements: 10 } as const;
// Slack posts at most about one message a second to a channel.
const MIN_INTERVAL_MS = 1000;
const QUOTE_CHARS = 600;

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

/** `<url|label>` for an http(s) URL, or null: no other scheme ever becomes a link. */
export function slackLink(url: string | null | undefined, label: string): string | null {
  if (!url || !/^https?:\/\//i.test(url)) return null;
  let href: string;
  try {
    href = new URL(url).href;
  } catch {
    return null;
  }
  // `|` would end the URL and `>` the link: percent-encode them; `&` and `<` as mrkdwn asks.
  const safe = href.replaceAll('|', '%7C').replaceAll('>', '%3E').replaceAll('<', '%3C').replaceAll('&', '&amp;');
  return `<${safe}|${escapeMrkdwn(label)}>`;
}

type Block = Record<string, unknown>;

const mrkdwn = (text: string) => ({ type: 'mrkdwn' as const, text });

function field(label: string, value: string): { type: 'mrkdwn'; text: string } {
  const head = `*${label}*\n`;
  return mrkdwn(head + fit(value, SLACK_LIMITS.fieldText - head.length));
}

function authorName(a: TicketDocument['mention']['author']): string {
  const name = [a.name, a.handle ? `@${a.handle.replace(/^@/, '')}` : null].filter(Boolean).join(' ') || 'unknown';
  return a.followers === null ? name : `${name} (${a.followers} followers)`;
}

function quote(text: string, max: number): string {
  const chars = Array.from(text.trim());
  const cut = chars.length > QUOTE_CHARS ? `${chars.slice(0, QUOTE_CHARS).join('')}…` : chars.join('');
  // Each line of a mrkdwn quote starts with ">": ours are the only ">" left unescaped.
  return `>${fit(cut, max - 1, (c) => (c === '\n' ? '\n>' : escapeMrkdwn(c)))}`;
}

function ticketBlocks(ticket: TicketDocument): Block[] {
  const m = ticket.mention;
  const fields = [
    field('Brand', ticket.brand),
    field('Team', ticket.team),
    field('Priority', ticket.priority),
    field('Status', ticket.status.replaceAll('_', ' ')),
    field('Source', m.source),
    field('Author', authorName(m.author)),
    ...(m.rating === null ? [] : [field('Rating', renderRating(m.rating))]),
  ];
  const blocks: Block[] = [
    { type: 'section', text: mrkdwn(`*${fit(ticket.title, SLACK_LIMITS.sectionText - 2)}*`), fields },
  ];
  if (m.text.trim() || m.title) {
    const title = m.title ? `*${fit(m.title, 500)}*\n` : '';
    const body = m.text.trim() ? quote(m.text, SLACK_LIMITS.sectionText - title.length) : '';
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
function recordBlocks(label: string, record: Record<string, unknown>, extra: Record<string, unknown>): Block[] {
  const entries = [...Object.entries(record), ...Object.entries(extra)].filter(
    (e): e is [string, string | number | boolean | null] => isScalar(e[1]) && e[1] !== null && e[1] !== '',
  );
  const blocks: Block[] = [];
  for (let i = 0; i < entries.length; i += SLACK_LIMITS.fields) {
    const fields = entries.slice(i, i + SLACK_LIMITS.fields).map(([k, v]) => field(humanize(k), String(v)));
    blocks.push(i === 0 ? { type: 'section', text: mrkdwn(`*${label}*`), fields } : { type: 'section', fields });
  }
  return blocks;
}

function asRecord(value: unknown): Record<string, unknown> | null {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

/**
 * A channel message body (`{type, timestamp, data: {alert, ticket?, target?, destination?}}`) as Block Kit, within
 * Slack's limits, every value from outside escaped; `text` is the notification's plain fallback.
 */
export function renderSlackMessage(body: Record<string, unknown>): { text: string; blocks: unknown[] } {
  const data = asRecord(body.data) ?? {};
  const alert = asRecord(data.alert);
  const type = typeof body.type === 'string' ? body.type : 'earshot event';
  const summary = typeof alert?.summary === 'string' && alert.summary.trim() ? alert.summary.trim() : type;

  const blocks: Block[] = [];
  if (summary.length <= SLACK_LIMITS.headerText && !summary.includes('\n')) {
    blocks.push({ type: 'header', text: { type: 'plain_text', text: summary, emoji: false } });
  } else {
    blocks.push({ type: 'section', text: mrkdwn(`*${fit(summary, SLACK_LIMITS.sectionText - 2)}*`) });
  }

  const ticket = asRecord(data.ticket) as TicketDocument | null;
  const target = asRecord(data.target);
  const destination = asRecord(data.destination);
  if (ticket?.mention) blocks.push(...ticketBlocks(ticket));
  const rest = Object.fromEntries(
    Object.entries(data).filter(([k]) => !['alert', 'ticket', 'target', 'destination', 'change'].includes(k)),
  );
  if (target) blocks.push(...recordBlocks('Target', target, rest));
  else if (destination) blocks.push(...recordBlocks('Destination', destination, rest));

  const time = typeof body.timestamp === 'string' ? ` · ${escapeMrkdwn(body.timestamp)}` : '';
  blocks.push({ type: 'context', elements: [mrkdwn(fit(`earshot · ${type}`, 200) + time)] });

  return {
    text: fit(summary, SLACK_LIMITS.sectionText),
    blocks: blocks.slice(0, SLACK_LIMITS.blocks),
  };
}

export async function sendSlackMessage(config: SlackConfig, message: ChannelMessage, ctx: SendContext): Promise<DeliveryOutcome> {
  // The URL's path is the token: never let it into an error, whole or in part.
  const path = (() => {
    try {
      return new URL(config.url).pathname;
    } catch {
      return config.url;
    }
  })();
  const hide = (text: string) => {
    let out = text.replaceAll(config.url, '[webhook url]');
    if (path.length > 1) out = out.replaceAll(path, '[webhook path]');
    return out;
  };
  await ctx.pace?.();
  try {
    const res = await request(config.url, {
      method: 'POST',
      body: JSON.stringify(renderSlackMessage(message.body)),
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

/** An alert channel in Slack, through an incoming webhook. */
export const slackConnector: Connector<SlackConfig> = {
  type: 'slack',
  configSchema: slackConfigSchema,
  minIntervalMs: () => MIN_INTERVAL_MS,
  sendMessage: sendSlackMessage,
};
