import { createHmac } from 'node:crypto';
import { request } from 'undici';
import { outboundDispatcher } from '../../lib/outbound.ts';
import { z } from 'zod';
import type { MentionDocument } from '../../documents/mention.ts';
import type { TicketChange, TicketDocument } from '../../documents/ticket.ts';
import { parseRetryAfter } from '../../lib/backoff.ts';
import { isSameSecret, markSecret } from '../../lib/secret.ts';
import type { TicketStatus } from '../../store/schema.ts';
import { slugSchema } from '../../lib/slug.ts';
import { httpUrlSchema } from './config.ts';
import { escapeHtml, renderLink, renderParagraphs } from './html.ts';
import { renderRating } from './text.ts';
import type { Connector, DeliveryOutcome, HelpdeskDelivery, InboundRequest, InboundResult, SendContext } from './types.ts';

// Zendesk Ticketing API: POST /api/v2/tickets.json (Idempotency-Key), GET /api/v2/tickets.json?external_id=…,
// PUT /api/v2/tickets/{id}.json, and webhooks signed base64(HMAC-SHA256(secret, timestamp + body)) that a trigger
// sends with the body below.

/** The body to paste into the Zendesk webhook's trigger (JSON, with Zendesk placeholders). */
export const ZENDESK_WEBHOOK_BODY =
  '{"ticket_id":"{{ticket.id}}","external_id":"{{ticket.external_id}}","status":"{{ticket.status}}"}';

export const ZENDESK_STATUSES = ['new', 'open', 'pending', 'hold', 'solved', 'closed'] as const;
export type ZendeskStatus = (typeof ZENDESK_STATUSES)[number];

export const zendeskConfigSchema = z.strictObject({
  id: slugSchema,
  type: z.literal('zendesk'),
  url: httpUrlSchema.describe('The account, e.g. https://acme.zendesk.com'),
  email: z.email().describe('The agent whose API token it is'),
  apiToken: markSecret(z.string().min(1)),
  webhookSecret: markSecret(z.string().min(1))
    .optional()
    .describe("The webhook's signing secret; without it inbound webhooks are refused"),
  // One shared requester by default, so no Zendesk email ever reaches a social author.
  requester: z
    .strictObject({ name: z.string().min(1).default('Social listening'), email: z.email().optional() })
    .prefault({}),
  groupByTeam: z.record(z.string(), z.number().int().positive()).optional().describe('Our team id → Zendesk group_id'),
  // 100/min is the documented per-account limit of the Update Ticket endpoint.
  requestsPerMinute: z.number().positive().default(100),
});

export type ZendeskConfig = z.output<typeof zendeskConfigSchema>;

const SIGNATURE_TOLERANCE_MS = 5 * 60_000;
// Zendesk documents a 150-character subject.
const SUBJECT_MAX = 150;
const COMPLAINT_REASONS = new Set(['complaint', 'legal_threat', 'safety', 'fraud_claim', 'churn_threat']);

/** Ours → Zendesk. spam and ignored have no counterpart: solved, and a tag says why. */
export function toZendeskStatus(status: TicketStatus): ZendeskStatus {
  switch (status) {
    case 'on_hold':
      return 'hold';
    case 'spam':
    case 'ignored':
      return 'solved';
    default:
      return status;
  }
}

/** Zendesk → ours, as the API ("hold") or a placeholder ("On-hold", "Solved") names it; null when unknown. */
export function fromZendeskStatus(status: string): TicketStatus | null {
  const name = status.trim().toLowerCase().replace(/[\s_-]+/g, '');
  if (name === 'hold' || name === 'onhold') return 'on_hold';
  return (['new', 'open', 'pending', 'solved', 'closed'] as const).find((s) => s === name) ?? null;
}

/** A Zendesk tag: lowercase, no spaces (a space would split it in two). */
export function formatZendeskTag(value: string): string {
  return value.toLowerCase().replace(/[^\p{L}\p{N}_:/-]+/gu, '_').replace(/^_+|_+$/g, '');
}

export function renderCreateTicket(config: ZendeskConfig, ticket: TicketDocument) {
  const m = ticket.mention;
  const groupId = config.groupByTeam?.[ticket.team];
  const extraTag = statusTag(ticket.status);
  return {
    ticket: {
      subject: truncate(ticket.title, SUBJECT_MAX),
      comment: { html_body: renderTicketHtml(ticket), public: false },
      requester: config.requester,
      priority: ticket.priority,
      // An incident reports something gone wrong and can be linked to a problem ticket (our story); else a question.
      type: m.action_reasons.some((r) => COMPLAINT_REASONS.has(r)) ? 'incident' : 'question',
      tags: [
        'earshot', `source_${m.source}`, `sentiment_${m.sentiment.label}`, `lang_${m.lang}`, ...(extraTag ? [extraTag] : []),
      ].map(formatZendeskTag),
      external_id: ticket.id,
      ...(groupId === undefined ? {} : { group_id: groupId }),
      ...(ticket.status === 'new' ? {} : { status: toZendeskStatus(ticket.status) }),
    },
  };
}

/** The PUT body for a change of a ticket that Zendesk already has. */
export function renderTicketUpdate(config: ZendeskConfig, ticket: TicketDocument, change: TicketChange | null) {
  const note = (html: string) => ({ comment: { html_body: html, public: false } });
  switch (change?.kind ?? 'sync') {
    case 'sync':
    case 'status':
    case 'priority':
      return { ticket: { ...statusFields(ticket.status), priority: ticket.priority } };
    case 'copy_joined': {
      const copy = change!.changes.mention as MentionDocument | undefined;
      return { ticket: note(copy ? renderCopyHtml(copy) : renderChangeHtml(change!)) };
    }
    case 'answered_on_source':
      return { ticket: { ...note(renderAnswerHtml(ticket, change!.changes.reply)), status: 'solved' as const } };
    case 'sla_warning':
    case 'sla_breached':
      return { ticket: note(renderSlaHtml(ticket, change!)) };
    case 'team': {
      const groupId = config.groupByTeam?.[ticket.team];
      return { ticket: groupId === undefined ? note(renderChangeHtml(change!)) : { group_id: groupId } };
    }
    default:
      return { ticket: note(renderChangeHtml(change!)) };
  }
}

function statusFields(status: TicketStatus) {
  // A ticket never goes back to new in Zendesk: leave its status alone rather than have the update refused.
  return status === 'new' ? {} : { status: toZendeskStatus(status) };
}

function statusTag(status: TicketStatus): string | null {
  return status === 'spam' || status === 'ignored' ? `earshot_${status}` : null;
}

export function signZendeskWebhook(secret: string, timestamp: string, body: string): string {
  // The signing secret is used as the key's UTF-8 bytes, as Zendesk's own example does (not base64-decoded).
  return createHmac('sha256', secret).update(timestamp + body).digest('base64');
}

const webhookBodySchema = z.object({
  ticket_id: z.union([z.string().regex(/^\d+$/), z.number().int().nonnegative()]).transform(String),
  external_id: z.string().nullable().optional(),
  status: z.string().min(1),
});

export function receiveZendeskWebhook(config: ZendeskConfig, req: InboundRequest, ctx: { now: Date }): InboundResult {
  if (!config.webhookSecret) return { ok: false, status: 401, error: 'no webhookSecret is configured for this Zendesk' };
  const signature = single(req.headers['x-zendesk-webhook-signature']);
  const timestamp = single(req.headers['x-zendesk-webhook-signature-timestamp']);
  if (!signature || !timestamp) return { ok: false, status: 401, error: 'missing X-Zendesk-Webhook-Signature headers' };
  if (!isSameSecret(signature, signZendeskWebhook(config.webhookSecret, timestamp, req.rawBody))) {
    return { ok: false, status: 401, error: 'bad signature' };
  }
  // A signed request captured once could be replayed forever: only a fresh timestamp is accepted.
  const at = parseTimestamp(timestamp);
  if (at === null || Math.abs(ctx.now.getTime() - at) > SIGNATURE_TOLERANCE_MS) {
    return { ok: false, status: 401, error: 'timestamp is more than 5 minutes away' };
  }
  let json: unknown;
  try {
    json = JSON.parse(req.rawBody);
  } catch {
    return { ok: false, status: 400, error: 'body is not JSON' };
  }
  const body = webhookBodySchema.safeParse(json);
  if (!body.success) return { ok: false, status: 400, error: `body does not match the documented template: ${z.prettifyError(body.error)}` };
  const { ticket_id, external_id, status } = body.data;
  return { ok: true, changes: [{ externalId: ticket_id, ticketId: external_id || null, externalStatus: status, status: fromZendeskStatus(status) }] };
}

/** ISO 8601 as Zendesk sends it; Unix seconds too. */
function parseTimestamp(value: string): number | null {
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : at;
}

export async function deliverZendeskTicket(
  config: ZendeskConfig,
  delivery: HelpdeskDelivery,
  ctx: SendContext,
): Promise<DeliveryOutcome> {
  const { ticket, change } = delivery.event.data;
  const base = config.url.replace(/\/+$/, '');
  if (delivery.link === null) return createZendeskTicket(config, delivery, ctx, base);
  const id = delivery.link.externalId;
  const tag = statusTag(ticket.status);
  if (tag && (change === null || change.kind === 'status')) {
    // Update Ticket replaces the whole tag list; the Add Tags endpoint keeps the agents' tags.
    const tagged = await callZendesk(config, ctx, 'PUT', `${base}/api/v2/tickets/${encodeURIComponent(id)}/tags`, { tags: [tag] });
    if (!tagged.ok) return tagged.outcome;
  }
  const outcome = ticketOutcome(
    await callZendesk(config, ctx, 'PUT', `${base}/api/v2/tickets/${encodeURIComponent(id)}.json`, renderTicketUpdate(config, ticket, change)),
  );
  return outcome.ok ? { ...outcome, externalId: id } : outcome;
}

/**
 * The create body is rendered now, from the ticket as it is now: a create that landed but whose answer was lost
 * cannot be replayed once the ticket changed (Zendesk answers IdempotentRequestError), nor once the key expired.
 * So a create that may have landed looks for the ticket by our external_id first.
 */
async function createZendeskTicket(config: ZendeskConfig, delivery: HelpdeskDelivery, ctx: SendContext, base: string): Promise<DeliveryOutcome> {
  const { ticket } = delivery.event.data;
  if (delivery.uncertain) {
    const found = await findZendeskTicket(config, ctx, base, ticket.id);
    if (found !== null) return found;
  }
  const create = (key: string) =>
    callZendesk(config, ctx, 'POST', `${base}/api/v2/tickets.json`, renderCreateTicket(config, ticket), { 'idempotency-key': key });
  const created = await create(delivery.messageId);
  if (created.ok || created.code !== 'IdempotentRequestError') return ticketOutcome(created);
  const found = await findZendeskTicket(config, ctx, base, ticket.id);
  if (found !== null) return found;
  // The first key's ticket is gone (deleted, or its external_id edited): a new key, the same on every retry of this row.
  return ticketOutcome(await create(`${delivery.messageId}:retry`));
}

/** List Tickets by external_id: our ticket as Zendesk has it (the oldest, should there be several), or null. */
async function findZendeskTicket(config: ZendeskConfig, ctx: SendContext, base: string, ticketId: string): Promise<DeliveryOutcome | null> {
  const answer = await callZendesk(config, ctx, 'GET', `${base}/api/v2/tickets.json?external_id=${encodeURIComponent(ticketId)}`);
  if (!answer.ok) return answer.outcome;
  const listed = parseTicketList(answer.text);
  if (listed === null) {
    return { ok: false, status: answer.status, error: `HTTP ${answer.status}: no ticket list in the answer`, retryAfterMs: null, gone: false };
  }
  const ours = listed.filter((t) => t.external_id === ticketId).sort((a, b) => Number(a.id) - Number(b.id))[0];
  return ours ? { ok: true, status: answer.status, externalId: String(ours.id), externalStatus: ours.status } : null;
}

type Failure = Extract<DeliveryOutcome, { ok: false }>;
/** A 2xx with its body, or the failure as an outcome plus Zendesk's error code (`{"error": "..."}`) when it gave one. */
type ZendeskAnswer = { ok: true; status: number; text: string } | { ok: false; outcome: Failure; code: string | null };

async function callZendesk(
  config: ZendeskConfig,
  ctx: SendContext,
  method: 'GET' | 'POST' | 'PUT',
  url: string,
  body?: unknown,
  extraHeaders: Record<string, string> = {},
): Promise<ZendeskAnswer> {
  const credentials = Buffer.from(`${config.email}/token:${config.apiToken}`).toString('base64');
  const hide = (text: string) => text.replaceAll(config.apiToken, '[redacted]').replaceAll(credentials, '[redacted]');
  await ctx.pace?.();
  try {
    const res = await request(url, {
      dispatcher: outboundDispatcher(),
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      headers: {
        authorization: `Basic ${credentials}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        accept: 'application/json',
        'user-agent': 'earshot-zendesk/0.1',
        ...extraHeaders,
      },
      headersTimeout: ctx.timeoutMs,
      bodyTimeout: ctx.timeoutMs,
    });
    const text = await res.body.text();
    const status = res.statusCode;
    if (status >= 200 && status < 300) return { ok: true, status, text };
    const retryAfterMs = parseRetryAfter(res.headers['retry-after'], ctx.now.getTime());
    // 408, 409 (a concurrent update of the ticket), 429 and 5xx pass; every other 4xx will fail the same way again.
    const transient = status === 408 || status === 409 || status === 429 || status >= 500;
    const error = readError(text);
    return {
      ok: false,
      code: error?.code ?? null,
      outcome: {
        ok: false,
        status,
        error: hide(`HTTP ${status}${describeError(error, text)}`),
        retryAfterMs: status === 429 || status === 503 ? retryAfterMs : null,
        gone: !transient,
      },
    };
  } catch (err) {
    return { ok: false, code: null, outcome: { ok: false, status: null, error: hide((err as Error).message), retryAfterMs: null, gone: false } };
  }
}

/** The outcome of a call that answers `{ticket: {...}}` (create, update). */
function ticketOutcome(answer: ZendeskAnswer): DeliveryOutcome {
  if (!answer.ok) return answer.outcome;
  const ticket = parseTicketAnswer(answer.text);
  if (!ticket) return { ok: false, status: answer.status, error: `HTTP ${answer.status}: no ticket in the answer`, retryAfterMs: null, gone: false };
  return { ok: true, status: answer.status, externalId: String(ticket.id), externalStatus: ticket.status };
}

function parseTicketAnswer(text: string): { id: number | string; status: string } | null {
  try {
    const ticket = (JSON.parse(text) as { ticket?: { id?: unknown; status?: unknown } }).ticket;
    if (typeof ticket?.id !== 'number' && typeof ticket?.id !== 'string') return null;
    return { id: ticket.id, status: typeof ticket.status === 'string' ? ticket.status : '' };
  } catch {
    return null;
  }
}

function parseTicketList(text: string): { id: number | string; external_id: unknown; status: string }[] | null {
  try {
    const tickets = (JSON.parse(text) as { tickets?: unknown }).tickets;
    if (!Array.isArray(tickets)) return null;
    return tickets.flatMap((t: { id?: unknown; external_id?: unknown; status?: unknown } | null) =>
      typeof t?.id === 'number' || typeof t?.id === 'string'
        ? [{ id: t.id, external_id: t.external_id, status: typeof t.status === 'string' ? t.status : '' }]
        : [],
    );
  } catch {
    return null;
  }
}

/** Zendesk errors are `{error, description}`; IdempotentRequestError is a reused key with another body. */
function readError(text: string): { code: string; description: string | null } | null {
  try {
    const { error, description } = JSON.parse(text) as { error?: unknown; description?: unknown };
    if (typeof error === 'string') return { code: error, description: typeof description === 'string' ? description : null };
  } catch {
    // not JSON
  }
  return null;
}

function describeError(error: { code: string; description: string | null } | null, text: string): string {
  if (error) return `: ${error.code}${error.description !== null ? `: ${error.description}` : ''}`.slice(0, 300);
  // not Zendesk's error JSON: quote the start of it
  return text ? `: ${text.slice(0, 200)}` : '';
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

// HTML rendering: every value from a mention is escaped; links are kept only when they are http(s) (./html.ts).

function authorLine(a: MentionDocument['author']): string {
  const name = [a.name, a.handle ? `@${a.handle.replace(/^@/, '')}` : null].filter(Boolean).join(' ') || 'unknown';
  const followers = a.followers === null ? '' : `, ${a.followers} followers`;
  return `${renderLink(a.url, name)}${escapeHtml(followers)}`;
}

function renderMentionHtml(m: MentionDocument, more: (string | null)[] = []): string {
  return [
    m.title ? `<p><strong>${escapeHtml(m.title)}</strong></p>` : '',
    renderParagraphs(m.text),
    list([
      `Source: ${renderLink(m.url, m.source)}`,
      `Author: ${authorLine(m.author)}`,
      m.rating === null ? null : `Rating: ${escapeHtml(renderRating(m.rating))}`,
      m.published_at ? `Published: ${escapeHtml(m.published_at)}` : null,
      ...more,
    ]),
  ].join('');
}

function list(items: (string | null)[]): string {
  return `<ul>${items.filter((i): i is string => i !== null).map((i) => `<li>${i}</li>`).join('')}</ul>`;
}

function renderTicketHtml(t: TicketDocument): string {
  const m = t.mention;
  const s = m.sentiment;
  const sentiment = [s.label, s.score === null ? null : `score ${s.score}`, s.confidence === null ? null : `confidence ${s.confidence}`];
  return renderMentionHtml(m, [
    `Sentiment: ${escapeHtml(sentiment.filter(Boolean).join(', '))}${s.reason ? ` (${escapeHtml(s.reason)})` : ''}`,
    m.action_reasons.length ? `Needs a reply: ${escapeHtml(m.action_reasons.join(', ').replaceAll('_', ' '))}` : null,
    `Brand: ${escapeHtml(t.brand)}`,
    `Team: ${escapeHtml(t.team)}`,
    t.cluster && t.cluster.size > 1 ? `Story: ${t.cluster.size} mentions on ${escapeHtml(t.cluster.sources.join(', '))}` : null,
    `earshot ticket: ${escapeHtml(t.id)}`,
  ]);
}

function renderCopyHtml(m: MentionDocument): string {
  return `<p>Another mention of this story joined the ticket.</p>${renderMentionHtml(m)}`;
}

function renderAnswerHtml(t: TicketDocument, reply: unknown): string {
  const r = (reply ?? t.mention.reply ?? { text: '', at: null }) as { text?: string; at?: string | null };
  const when = r.at ? ` on ${escapeHtml(r.at)}` : '';
  return `<p>${escapeHtml(t.brand)} answered on ${renderLink(t.mention.url, t.mention.source)}${when}:</p><blockquote>${renderParagraphs(r.text ?? '')}</blockquote><p>Solved by earshot: answered on the source.</p>`;
}

function renderSlaHtml(t: TicketDocument, change: TicketChange): string {
  const title = change.kind === 'sla_breached' ? 'SLA breached' : 'SLA warning';
  return [
    `<p><strong>${title}</strong>${t.breaches.length ? `: ${escapeHtml(t.breaches.join(', ').replaceAll('_', ' '))}` : ''}</p>`,
    list([
      t.first_response_at === null && t.first_response_due_at ? `First response due ${escapeHtml(t.first_response_due_at)}` : null,
      t.solved_at === null && t.resolution_due_at ? `Resolution due ${escapeHtml(t.resolution_due_at)}` : null,
      change.note ? escapeHtml(change.note) : null,
    ]),
  ].join('');
}

function renderChangeHtml(change: TicketChange): string {
  const fields = Object.entries(change.changes).map(([field, value]) => {
    const { from, to } = (value ?? {}) as { from?: unknown; to?: unknown };
    return `${escapeHtml(field)}: ${escapeHtml(String(from ?? '—'))} → ${escapeHtml(String(to ?? '—'))}`;
  });
  return [
    `<p>earshot: ${escapeHtml(change.kind.replaceAll('_', ' '))} changed by ${escapeHtml(change.actor)}</p>`,
    fields.length ? list(fields) : '',
    change.note ? `<p>${escapeHtml(change.note)}</p>` : '',
  ].join('');
}

function truncate(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/** A native Zendesk helpdesk: tickets with our id as external_id, created once per outbox row, updated in place. */
export const zendeskConnector: Connector<ZendeskConfig> = {
  type: 'zendesk',
  configSchema: zendeskConfigSchema,
  minIntervalMs: (config) => 60_000 / config.requestsPerMinute,
  deliverTicket: deliverZendeskTicket,
  receive: receiveZendeskWebhook,
};
