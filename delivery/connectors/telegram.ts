import { request } from 'undici';
import { z } from 'zod';
import { parseRetryAfter } from '../../lib/backoff.ts';
import { markSecret } from '../../lib/secret.ts';
import { slugSchema } from '../../lib/slug.ts';
import { httpUrlSchema } from './config.ts';
import { escapeHtml, renderLink } from './html.ts';
import { renderRating } from './text.ts';
import type { Connector, DeliveryOutcome } from './types.ts';

// Telegram Bot API: POST {apiUrl}/bot{token}/sendMessage; answers { ok, result } or { ok: false, error_code,
// description, parameters: { retry_after } }. The token is in the URL, so no URL ever reaches an error.

export const telegramConfigSchema = z.strictObject({
  id: slugSchema,
  type: z.literal('telegram'),
  botToken: markSecret(z.string().regex(/^\d+:[A-Za-z0-9_-]+$/, 'must look like 123456:ABC… (from @BotFather)')),
  /** A user or group id (groups and channels are negative, -100…), or @channelusername. */
  chatId: z.union([
    z.string().regex(/^(-?\d+|@[A-Za-z0-9_]{5,})$/, 'must be a chat id like -1001234567890 or @channelname'),
    z.number().int(),
  ]),
  apiUrl: httpUrlSchema.default('https://api.telegram.org'),
});

export type TelegramConfig = z.output<typeof telegramConfigSchema>;

/** `text` is 1-4096 characters after entities parsing; the HTML source is kept within it, which is stricter. */
export const TELEGRAM_TEXT_LIMIT = 4096;
const EXCERPT_CHARS = 600;

// Rendering: Telegram HTML has no <p> or <br>; newlines are kept as they are. Every outside value is escaped.

/** At most `max` code points (no surrogate pair is split), with "…" when cut. */
function cut(text: string, max: number): string {
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  return max <= 0 ? '' : `${chars.slice(0, max - 1).join('')}…`;
}

function record(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

function str(value: unknown): string | null {
  if (typeof value === 'string') return value === '' ? null : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}

/** Paragraphs kept: runs of blank lines become one blank line, trailing spaces dropped. */
function tidyText(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .split(/\n\s*\n/)
    .map((p) => p.split('\n').map((l) => l.trimEnd()).join('\n').trim())
    .filter((p) => p !== '')
    .join('\n\n');
}

interface Budget {
  /** Longest plain value of any one field (the summary, an error…). */
  field: number;
  /** Longest plain excerpt of the mention's text. */
  text: number;
}

function renderWith(body: Record<string, unknown>, budget: Budget): string {
  const data = record(body.data) ?? {};
  const alert = record(data.alert);
  const f = (value: string) => escapeHtml(cut(value, budget.field));
  const line = (label: string, value: unknown) => {
    const s = str(value);
    return s === null ? null : `${escapeHtml(label)}: ${f(s)}`;
  };
  const title = str(alert?.summary) ?? str(body.type) ?? 'earshot alert';
  const lines: (string | null)[] = [`<b>${f(title)}</b>`];

  const ticket = record(data.ticket);
  const target = record(data.target);
  const destination = record(data.destination);
  if (ticket) {
    const mention = record(ticket.mention) ?? {};
    const author = record(mention.author);
    const authorName = author ? str(author.name) ?? str(author.handle) : null;
    const handle = author && str(author.handle) ? `@${str(author.handle)!.replace(/^@/, '')}` : null;
    const authorText = authorName === null ? null : handle && handle !== `@${authorName}` ? `${authorName} (${handle})` : authorName;
    const rating = typeof mention.rating === 'number' ? mention.rating : null;
    lines.push(
      [line('Brand', ticket.brand), line('Team', ticket.team)].filter(Boolean).join(' · ') || null,
      [line('Priority', ticket.priority), line('Status', ticket.status)].filter(Boolean).join(' · ') || null,
      [line('Source', mention.source), line('Author', authorText)].filter(Boolean).join(' · ') || null,
      rating !== null ? `Rating: ${renderRating(rating)}` : null,
    );
    const mentionTitle = str(mention.title);
    const text = str(mention.text);
    const excerpt = [mentionTitle ? `<b>${f(mentionTitle)}</b>` : null, text ? escapeHtml(cut(tidyText(text), budget.text)) : null]
      .filter(Boolean)
      .join('\n');
    if (excerpt !== '') lines.push('', excerpt);
    const url = str(mention.url);
    if (url) lines.push('', renderLink(url, `Open on ${cut(str(mention.source) ?? 'the source', budget.field)}`));
    lines.push(line('Ticket', ticket.id));
  } else if (target) {
    lines.push(
      [line('Target', target.id), line('Source', target.source), line('Brand', target.brand)].filter(Boolean).join(' · ') || null,
      [line('State', target.state), line('Failures in a row', target.consecutive_errors)].filter(Boolean).join(' · ') || null,
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
  return lines.filter((l): l is string => l !== null).join('\n').replace(/\n{3,}/g, '\n\n').trim();
}

/**
 * The message for a channel body (`{ type, timestamp, data: { alert, ticket? | target? | destination? } }`),
 * as Telegram HTML within 4096 characters: plain values are cut before they are escaped, so no tag or entity
 * is ever broken.
 */
export function renderTelegramText(body: Record<string, unknown>): string {
  const budget: Budget = { field: TELEGRAM_TEXT_LIMIT, text: EXCERPT_CHARS };
  for (;;) {
    const html = renderWith(body, budget);
    const over = html.length - TELEGRAM_TEXT_LIMIT;
    if (over <= 0) return html;
    // The excerpt gives way first, then every field; each plain character is at least one HTML character.
    if (budget.text > 100) budget.text = Math.max(100, budget.text - over);
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

// Sending.

const answerSchema = z.object({
  ok: z.boolean(),
  result: z.object({ message_id: z.number().int() }).passthrough().optional(),
  error_code: z.number().int().optional(),
  description: z.string().optional(),
  parameters: z.object({ retry_after: z.number().nonnegative().optional() }).passthrough().optional(),
});

async function sendTelegram(config: TelegramConfig, text: string, ctx: { now: Date; timeoutMs: number; pace?: () => Promise<void> }): Promise<DeliveryOutcome> {
  const redact = (s: string) => s.replaceAll(config.botToken, '[bot token]');
  const fail = (status: number | null, error: string, gone: boolean, retryAfterMs: number | null = null): DeliveryOutcome => ({
    ok: false, status, error: redact(`telegram sendMessage: ${error}`), retryAfterMs, gone,
  });
  await ctx.pace?.();
  try {
    const res = await request(`${config.apiUrl.replace(/\/+$/, '')}/bot${config.botToken}/sendMessage`, {
      method: 'POST',
      body: JSON.stringify({
        chat_id: config.chatId,
        text,
        parse_mode: 'HTML',
        link_preview_options: { is_disabled: true },
      }),
      headers: { 'content-type': 'application/json', accept: 'application/json', 'user-agent': 'earshot-telegram/0.1' },
      headersTimeout: ctx.timeoutMs,
      bodyTimeout: ctx.timeoutMs,
    });
    const raw = await res.body.text();
    const status = res.statusCode;
    let parsed: z.output<typeof answerSchema> | null = null;
    try {
      parsed = answerSchema.safeParse(JSON.parse(raw)).data ?? null;
    } catch {
      parsed = null;
    }
    if (status >= 200 && status < 300 && parsed?.ok && parsed.result) {
      return { ok: true, status, externalId: String(parsed.result.message_id) };
    }
    const code = parsed?.error_code ?? status;
    const detail = `HTTP ${status}${parsed?.description ? `: ${parsed.description.slice(0, 200)}` : raw ? `: ${raw.slice(0, 200)}` : ''}`;
    if (code === 429 || status === 429) {
      const seconds = parsed?.parameters?.retry_after;
      const retryAfterMs = seconds !== undefined ? seconds * 1000 : parseRetryAfter(res.headers['retry-after'], ctx.now.getTime());
      return fail(status, detail, false, retryAfterMs);
    }
    if (status >= 500 || status === 408 || code >= 500) return fail(status, detail, false);
    // 400 (chat not found, can't parse entities), 401 (bad token), 403 (blocked, kicked), 404: never better on retry.
    // The HTTP status and error_code agree in practice; either one in 4xx means the same.
    if (status >= 400 || (code >= 400 && code < 500)) return fail(status, detail, true);
    // A 2xx that is not { ok: true, result } and names no error: not what the API answers; try again later.
    return fail(status, `unreadable answer: ${detail}`, false);
  } catch (err) {
    return fail(null, (err as Error).message, false);
  }
}

/** Telegram: one HTML message per alert to a chat, group or channel; paced per chat. */
export const telegramConnector: Connector<TelegramConfig> = {
  type: 'telegram',
  configSchema: telegramConfigSchema,
  // Bot FAQ: about one message per second in a chat, at most 20 per minute in a group (negative ids).
  minIntervalMs: (c) => (String(c.chatId).startsWith('-') ? 3000 : 1000),
  sendMessage: (config, message, ctx) => sendTelegram(config, renderTelegramText(message.body), ctx),
};
