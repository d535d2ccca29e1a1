import { request } from 'undici';
import { outboundDispatcher } from '../../lib/outbound.ts';
import { z } from 'zod';
import type { TicketChange, TicketDocument } from '../../documents/ticket.ts';
import { parseRetryAfter } from '../../lib/backoff.ts';
import { isSameSecret, markSecret } from '../../lib/secret.ts';
import type { TicketPriority, TicketStatus } from '../../store/schema.ts';
import { slugSchema } from '../../lib/slug.ts';
import { httpUrlSchema } from './config.ts';
import { escapeHtml, renderLink, renderParagraphs } from './html.ts';
import { renderRating } from './text.ts';
import type { Connector, DeliveryOutcome, InboundChange, InboundResult, SendContext } from './types.ts';

// Usedesk API (api.usedocs.ru / api.usedocs.com): every method is a POST with `api_token` in the JSON body.

export const usedeskConfigSchema = z.strictObject({
  id: slugSchema,
  type: z.literal('usedesk'),
  /** The base the method paths are appended to: the .ru cloud, the .com cloud (…/uapi), a mirror or on-prem. */
  url: httpUrlSchema.default('https://api.usedesk.ru'),
  /** The API channel's token: authenticates our calls, and Usedesk's webhooks carry it as `secret`. */
  apiToken: markSecret(z.string().min(1)),
  /** The shared client every ticket is filed under, so that no email ever goes to a social author. */
  requester: z
    .strictObject({
      name: z.string().min(1).default('Social listening'),
      email: z.email().optional(),
      clientId: z.number().int().positive().optional(),
    })
    .optional(),
  channelId: z.number().int().positive().optional(),
  /** Our team → Usedesk group_id. */
  groupByTeam: z.record(z.string(), z.number().int().positive()).optional(),
  requestsPerSecond: z.number().positive().default(0.4),
});

export type UsedeskConfig = z.output<typeof usedeskConfigSchema>;

const TO_USEDESK_STATUS: Record<TicketStatus, number> = {
  new: 8, open: 1, pending: 6, on_hold: 5, solved: 2, closed: 3, spam: 7, ignored: 3,
};
const FROM_USEDESK_STATUS: Record<string, TicketStatus> = {
  '1': 'open', '2': 'solved', '3': 'closed', '4': 'closed', '5': 'on_hold', '6': 'pending', '7': 'spam', '8': 'new', '10': 'closed',
};
const TO_USEDESK_PRIORITY: Record<TicketPriority, string> = { low: 'low', normal: 'medium', high: 'urgent', urgent: 'extreme' };

type Failure = Extract<DeliveryOutcome, { ok: false }>;
type Answer = { ok: true; status: number; data: unknown } | { ok: false; outcome: Failure };

/** One API call; the outcome of a failure is the retry policy. The token never reaches an error string. */
async function callUsedesk(config: UsedeskConfig, method: string, fields: Record<string, unknown>, ctx: SendContext): Promise<Answer> {
  const redact = (text: string) => text.replaceAll(config.apiToken, '[api token]');
  const fail = (status: number | null, error: string, gone: boolean, retryAfterMs: number | null = null): Answer => ({
    ok: false,
    outcome: { ok: false, status, error: redact(`usedesk ${method}: ${error}`), retryAfterMs, gone },
  });
  await ctx.pace?.();
  try {
    const res = await request(`${config.url.replace(/\/+$/, '')}/${method}`, {
      dispatcher: outboundDispatcher(),
      method: 'POST',
      body: JSON.stringify({ api_token: config.apiToken, ...fields }),
      headers: { 'content-type': 'application/json', accept: 'application/json', 'user-agent': 'earshot-usedesk/0.1' },
      headersTimeout: ctx.timeoutMs,
      bodyTimeout: ctx.timeoutMs,
    });
    const text = await res.body.text();
    const status = res.statusCode;
    const detail = `HTTP ${status}${text ? `: ${text.slice(0, 200)}` : ''}`;
    if (status === 429) return fail(status, detail, false, parseRetryAfter(res.headers['retry-after'], ctx.now.getTime()));
    if (status >= 500 || status === 408) return fail(status, detail, false);
    if (status >= 400) return fail(status, detail, true);
    if (status < 200 || status >= 300) return fail(status, detail, false);
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      return fail(status, `unreadable answer: ${detail}`, false);
    }
    const error = readError(data);
    if (error !== null) return fail(status, error, PERMANENT_ERROR.test(error));
    return { ok: true, status, data };
  } catch (err) {
    return fail(null, (err as Error).message, false);
  }
}

// Usedesk may answer 200 with an error body: a bad token or a validation error will fail again, the rest may not.
const PERMANENT_ERROR = /token|auth|access|forbidden|permission|not found|required|invalid|validat|токен|доступ|не найден|обязател|неверн|некорректн/i;

function readError(data: unknown): string | null {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return null;
  const { error, status, message } = data as Record<string, unknown>;
  if (error !== undefined && error !== null && error !== false && error !== '') {
    return typeof error === 'string' ? error : JSON.stringify(error).slice(0, 200);
  }
  if (status === 'error' || status === 'fail') return typeof message === 'string' ? message : `status ${status}`;
  return null;
}

const idSchema = z.union([z.number().int(), z.string().regex(/^\d+$/)]).transform(String);
const createdAnswerSchema = z.object({ ticket_id: idSchema });
const listedSchema = z.object({ id: idSchema, additional_id: z.unknown().optional() });

/** A Usedesk id goes back as the number it is. */
function ticketIdField(externalId: string): number | string {
  return /^\d+$/.test(externalId) ? Number(externalId) : externalId;
}

/** The UTC 'YYYY-MM-DD HH:MM' the ticket filters take. */
function formatFilterDate(date: Date): string {
  return date.toISOString().slice(0, 16).replace('T', ' ');
}

/** The marker in every message we file: what the reconciling search looks for. */
function marker(ticketId: string): string {
  return `earshot:${ticketId}`;
}

/** A create may have landed before the worker died: find it by our marker, then check additional_id exactly. */
async function findFiledTicket(config: UsedeskConfig, ticket: TicketDocument, ctx: SendContext): Promise<Answer> {
  const since = new Date(Date.parse(ticket.created_at) - 24 * 3600_000);
  const answer = await callUsedesk(config, 'tickets', { query: marker(ticket.id), created_after: formatFilterDate(since) }, ctx);
  if (!answer.ok) return answer;
  const list = Array.isArray(answer.data) ? answer.data : (answer.data as { tickets?: unknown })?.tickets;
  const found = (Array.isArray(list) ? list : [])
    .map((item) => listedSchema.safeParse(item).data)
    .find((t) => t !== undefined && t.additional_id !== undefined && String(t.additional_id) === ticket.id);
  return { ok: true, status: answer.status, data: found?.id ?? null };
}

async function createTicket(config: UsedeskConfig, ticket: TicketDocument, uncertain: boolean, ctx: SendContext): Promise<DeliveryOutcome> {
  const status = TO_USEDESK_STATUS[ticket.status];
  if (uncertain) {
    const filed = await findFiledTicket(config, ticket, ctx);
    if (!filed.ok) return filed.outcome;
    if (filed.data !== null) return { ok: true, status: filed.status, externalId: filed.data as string };
  }
  const group = config.groupByTeam?.[ticket.team];
  const requester = config.requester;
  const client =
    requester?.clientId !== undefined
      ? { client_id: requester.clientId }
      : { client_name: requester?.name ?? 'Social listening', ...(requester?.email ? { client_email: requester.email } : {}) };
  const answer = await callUsedesk(config, 'create/ticket', {
    subject: Array.from(ticket.title).slice(0, 255).join(''),
    message: renderTicketMessage(ticket),
    additional_id: ticket.id,
    priority: TO_USEDESK_PRIORITY[ticket.priority],
    // The documented `status` of create/ticket files an already solved ticket as solved in one call.
    status,
    tag: renderTags(ticket),
    ...client,
    ...(config.channelId !== undefined ? { channel_id: config.channelId } : {}),
    ...(group !== undefined ? { group_id: group } : {}),
    from: 'client',
  }, ctx);
  if (!answer.ok) return answer.outcome;
  const created = createdAnswerSchema.safeParse(answer.data);
  if (!created.success) {
    return { ok: false, status: answer.status, error: 'usedesk create/ticket: the answer has no ticket_id', retryAfterMs: null, gone: false };
  }
  return { ok: true, status: answer.status, externalId: created.data.ticket_id, externalStatus: String(status) };
}

interface Step {
  method: 'update/ticket' | 'create/comment';
  fields: Record<string, unknown>;
}

/** What a change does to the Usedesk ticket: the fields are read from our ticket as it is now. */
function planSteps(config: UsedeskConfig, ticket: TicketDocument, change: TicketChange | null): Step[] {
  const update = (fields: Record<string, unknown>): Step => ({ method: 'update/ticket', fields: { ...fields, silent: true } });
  // Comments are private (the documented default of create/comment): a public one would email the shared client.
  const comment = (html: string): Step => ({ method: 'create/comment', fields: { message: html, type: 'private' } });
  const changes = change?.changes ?? {};
  switch (change?.kind) {
    case 'status':
      return [update({ status: TO_USEDESK_STATUS[ticket.status] })];
    case 'priority':
      return [update({ priority: TO_USEDESK_PRIORITY[ticket.priority] })];
    case 'team': {
      const group = config.groupByTeam?.[ticket.team];
      return group === undefined ? [] : [update({ group_id: group })];
    }
    case 'copy_joined':
      return [comment(renderCopyComment(changes.mention))];
    case 'answered_on_source':
      // The status first: repeating it on a retry is harmless, repeating the comment is not.
      return [
        update({ status: TO_USEDESK_STATUS[ticket.status === 'closed' ? 'closed' : 'solved'] }),
        comment(renderReplyComment(ticket, changes.reply)),
      ];
    case 'sla_warning':
    case 'sla_breached':
      return [comment(renderSlaComment(ticket, change))];
    default:
      return [];
  }
}

async function updateTicket(config: UsedeskConfig, externalId: string, ticket: TicketDocument, change: TicketChange | null, ctx: SendContext): Promise<DeliveryOutcome> {
  let status = 200; // nothing to send (an assignee change, a repeated create) is a success as it is
  let externalStatus: string | undefined;
  for (const step of planSteps(config, ticket, change)) {
    const answer = await callUsedesk(config, step.method, { ticket_id: ticketIdField(externalId), ...step.fields }, ctx);
    if (!answer.ok) return answer.outcome;
    status = answer.status;
    if (typeof step.fields.status === 'number') externalStatus = String(step.fields.status);
  }
  return { ok: true, status, externalId, ...(externalStatus !== undefined ? { externalStatus } : {}) };
}

// Rendering: Usedesk messages are HTML, so every value from outside is escaped.

const copySchema = z.object({
  source: z.string().catch('unknown source'),
  url: z.string().nullish().catch(null),
  title: z.string().nullish().catch(null),
  text: z.string().catch(''),
  author: z
    .object({ name: z.string().nullish(), handle: z.string().nullish(), followers: z.number().nullish() })
    .nullish()
    .catch(null),
});

function renderAuthor(author: z.output<typeof copySchema>['author']): string {
  if (!author) return 'unknown';
  const extra = [author.handle ? `@${author.handle.replace(/^@/, '')}` : null, author.followers != null ? `${author.followers} followers` : null].filter(Boolean);
  return escapeHtml(`${author.name ?? author.handle ?? 'unknown'}${extra.length > 0 ? ` (${extra.join(', ')})` : ''}`);
}

function renderMentionBody(m: z.output<typeof copySchema>): string {
  return `${m.title ? `<p><b>${escapeHtml(m.title)}</b></p>` : ''}${renderParagraphs(m.text)}` +
    `<p>${renderLink(m.url, `Open on ${m.source}`)}<br>Author: ${renderAuthor(m.author)}</p>`;
}

function renderTicketMessage(ticket: TicketDocument): string {
  const m = ticket.mention;
  const facts = [
    m.rating !== null ? `Rating: ${renderRating(m.rating)}` : null,
    `Sentiment: ${m.sentiment.label}${m.sentiment.score !== null ? ` (${m.sentiment.score.toFixed(2)})` : ''}`,
    m.action_reasons.length > 0 ? `Why: ${m.action_reasons.join(', ')}` : null,
    `Brand: ${ticket.brand} · Team: ${ticket.team}`,
  ].filter((line): line is string => line !== null);
  return `${renderMentionBody(m)}<p>${facts.map(escapeHtml).join('<br>')}</p><p><small>${escapeHtml(marker(ticket.id))}</small></p>`;
}

function renderCopyComment(mention: unknown): string {
  const copy = copySchema.safeParse(mention ?? {});
  const body = copy.success ? `<p>Source: ${escapeHtml(copy.data.source)}</p>${renderMentionBody(copy.data)}` : '';
  return `<p><b>Another copy of this story appeared.</b></p>${body}`;
}

function renderReplyComment(ticket: TicketDocument, reply: unknown): string {
  const parsed = z.object({ text: z.string(), at: z.string().nullish() }).safeParse(reply);
  const at = parsed.success && parsed.data.at ? ` (${escapeHtml(parsed.data.at)})` : '';
  const text = parsed.success ? renderParagraphs(parsed.data.text) : '';
  return `<p><b>${escapeHtml(ticket.brand)} answered on ${escapeHtml(ticket.mention.source)}${at}:</b></p>${text}`;
}

function renderSlaComment(ticket: TicketDocument, change: TicketChange): string {
  const lines = [
    change.kind === 'sla_breached' ? 'SLA breached' : 'SLA warning',
    ticket.first_response_due_at ? `First response due: ${ticket.first_response_due_at}` : null,
    ticket.resolution_due_at ? `Resolution due: ${ticket.resolution_due_at}` : null,
    ticket.breaches.length > 0 ? `Missed: ${ticket.breaches.join(', ')}` : null,
    change.note,
  ].filter((line): line is string => typeof line === 'string' && line !== '');
  return `<p>${lines.map(escapeHtml).join('<br>')}</p>`;
}

/** Comma-plus-space separated, as Usedesk's `tag` takes them; a comma inside a value would split it. */
function renderTags(ticket: TicketDocument): string {
  const tags = ['earshot', ticket.mention.source, ticket.mention.sentiment.label, ticket.mention.lang];
  return [...new Set(tags.map((t) => t.replaceAll(',', ' ').trim()).filter((t) => t !== ''))].join(', ').slice(0, 255);
}

// Inbound: the "create ticket" and "change ticket" webhooks of the API channel, sent as JSON.

const additionalIdSchema = z.union([z.string(), z.number()]).nullish().transform((v) => (v === null || v === undefined || v === '' ? null : String(v)));
const createdHookSchema = z.object({ ticket: z.object({ id: idSchema, status_id: idSchema, additional_id: additionalIdSchema }) });
const changedHookSchema = z.object({ ticket_id: idSchema, new_status: idSchema.nullish(), additional_id: additionalIdSchema });

function receiveWebhook(config: UsedeskConfig, rawBody: string): InboundResult {
  let body: unknown;
  try {
    body = JSON.parse(rawBody);
  } catch {
    return { ok: false, status: 400, error: 'the body is not JSON (turn on "JSON request" on the API channel)' };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { ok: false, status: 400, error: 'the body is not a JSON object' };
  const { secret } = body as Record<string, unknown>;
  if (typeof secret !== 'string' || !isSameSecret(secret, config.apiToken)) return { ok: false, status: 401, error: 'missing or wrong secret' };

  const change = (externalId: string, ticketId: string | null, externalStatus: string): InboundChange => ({
    externalId, ticketId, externalStatus, status: FROM_USEDESK_STATUS[externalStatus] ?? null,
  });
  const created = createdHookSchema.safeParse(body);
  if (created.success) {
    const t = created.data.ticket;
    return { ok: true, changes: [change(t.id, t.additional_id, t.status_id)] };
  }
  const changed = changedHookSchema.safeParse(body);
  if (!changed.success) return { ok: false, status: 400, error: 'neither a "create ticket" nor a "change ticket" webhook' };
  const { ticket_id, new_status, additional_id } = changed.data;
  // new_status "0" (or none): the change was not a status change (an assignee, a tag…).
  if (new_status === null || new_status === undefined || new_status === '0') return { ok: true, changes: [] };
  return { ok: true, changes: [change(ticket_id, additional_id, new_status)] };
}

/** Usedesk: tickets filed under one shared client, updated by comments and status; status comes back by webhook. */
export const usedeskConnector: Connector<UsedeskConfig> = {
  type: 'usedesk',
  configSchema: usedeskConfigSchema,
  minIntervalMs: (c) => 1000 / c.requestsPerSecond,
  deliverTicket: (config, delivery, ctx) => {
    const { ticket, change } = delivery.event.data;
    return delivery.link === null
      ? createTicket(config, ticket, delivery.uncertain, ctx)
      : updateTicket(config, delivery.link.externalId, ticket, change, ctx);
  },
  receive: (config, request) => receiveWebhook(config, request.rawBody),
};
