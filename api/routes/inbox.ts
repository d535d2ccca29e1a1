import { z } from 'zod';
import { formatTimestamp, nullableTimestampSchema, timestampSchema } from '../../documents/fields.ts';
import { formatMention, mentionDocument } from '../../documents/mention.ts';
import { correctActionableWithTicket } from '../../pipeline/open-tickets.ts';
import { changeTickets } from '../../pipeline/ticket-changes.ts';
import type { TicketPolicy } from '../../pipeline/ticket-policy.ts';
import { ACTION_REASONS, SENTIMENT_LABELS } from '../../sentiment/types.ts';
import { inTransaction, type Db } from '../../store/connect.ts';
import { CORRECTION_LABELS, correctSentiment, type CorrectionLabel } from '../../store/corrections.ts';
import {
  findInboxTicketsOfMentions, INBOX_COUNT_CAP, INBOX_SORTS, INBOX_VIEWS, listInbox, type InboxCursor, type InboxFilter, type InboxItem, type InboxTicket,
  type InboxView,
} from '../../store/inbox.ts';
import { getMentions } from '../../store/mention-list.ts';
import { TICKET_PRIORITIES, TICKET_STATUSES } from '../../store/schema.ts';
import type { TicketChangeRequest } from '../../tickets/lifecycle.ts';
import { actorOf } from '../auth.ts';
import { bigIdString, cursorParam, encodeCursor } from '../cursor.ts';
import { describeProblems, sendProblem } from '../errors.ts';
import { apiSchemaRegistry, pageSchema } from '../schemas.ts';
import type { ApiDeps, ZodApp } from '../types.ts';

export const inboxTicketSchema = z
  .object({
    id: z.string(),
    status: z.enum(TICKET_STATUSES),
    priority: z.enum(TICKET_PRIORITIES),
    team: z.string(),
    assignee: z.string().nullable(),
    version: z.number().int().describe('Moves on every change: send it back in If-Match to PATCH /tickets/{id}'),
    first_response_due_at: nullableTimestampSchema,
    resolution_due_at: nullableTimestampSchema,
    breached: z.boolean().describe('An SLA target was missed'),
    sla_paused: z.boolean().describe('The ticket is pending: its SLA clocks stand still'),
    created_at: timestampSchema,
  })
  .register(apiSchemaRegistry, { id: 'InboxTicket', description: 'What an inbox row shows of a ticket; GET /tickets/{id} has the rest' });

export const inboxItemSchema = z
  .object({
    mention: mentionDocument.describe('In the ticket views, the mention that opened the ticket'),
    ticket: inboxTicketSchema
      .nullable()
      .describe("The mention's ticket: its story's open ticket, else the newest of its story's tickets; null when none"),
  })
  .register(apiSchemaRegistry, { id: 'InboxItem', description: 'One row of the triage inbox' });

/** A comma-separated list of known values (`status=new,open`), each at most once. */
function commaList<const T extends readonly [string, ...string[]]>(values: T) {
  return z
    .string()
    .max(500)
    .transform((raw, ctx): T[number][] => {
      const items = [...new Set(raw.split(',').map((s) => s.trim()).filter((s) => s !== ''))];
      const unknown = items.filter((item) => !values.includes(item));
      if (items.length === 0 || unknown.length > 0) {
        ctx.addIssue({ code: 'custom', message: `expected one or more of ${values.join(', ')}, separated by commas` });
        return z.NEVER;
      }
      return items as T[number][];
    });
}

const cursorSchema = z.object({
  v: z.enum(INBOX_VIEWS),
  s: z.enum(INBOX_SORTS),
  id: bigIdString,
  p: z.enum(['0', '1', '2', '3', '4']).optional(),
  d: z.union([z.literal('none'), z.iso.datetime()]).optional(),
});

const instant = z.iso.datetime({ offset: true });

const querySchema = z.object({
  view: z
    .enum(INBOX_VIEWS)
    .default('needs_reply')
    .describe(
      'needs_reply: open tickets (new, open, pending, on_hold); tickets: tickets of any status; both one item per ticket, ' +
        'shown by the mention that opened it. mentions: every stored mention, with its ticket when its story has one',
    ),
  status: commaList(TICKET_STATUSES).optional().describe('Ticket statuses, comma-separated; in needs_reply, only open ones can match'),
  brand: z.string().min(1).max(200).optional().describe("A brand the mention names (any of the mention's brands)"),
  source: z.string().min(1).max(100).optional(),
  target: z.string().min(1).max(200).optional().describe('The target the mention was crawled from'),
  team: z.string().min(1).max(200).optional().describe("The ticket's team"),
  sentiment: commaList(SENTIMENT_LABELS).optional().describe('Sentiment labels, comma-separated'),
  lang: z.string().min(1).max(20).optional(),
  reason: z.enum(ACTION_REASONS).optional().describe('Only mentions with this reason to reply'),
  assignee: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .optional()
    .describe("The ticket's assignee: `me` (the signed-in person), `none` (nobody), or an assignee as stored (an email)"),
  since: instant.optional().describe('Mentions published (or first seen, when the source gave no date) at or after this instant'),
  until: instant.optional().describe('… before this instant'),
  q: z.string().trim().min(1).max(200).optional().describe('Words in the title or text (full-text, Russian and English stemming; "quoted phrase", -word)'),
  sort: z
    .enum(INBOX_SORTS)
    .optional()
    .describe(
      'priority: urgent first, then the first-response deadline (none last), then id (the default of needs_reply); ' +
        'newest: by mention id, newest first (the default of tickets and mentions)',
    ),
  limit: z.coerce.number().int().min(1).max(200).default(100),
  cursor: cursorParam(cursorSchema).optional(),
});

const listSchema = pageSchema(inboxItemSchema).extend({
  total: z
    .number()
    .int()
    .describe(`How many items match the filters, on every page, counted up to ${INBOX_COUNT_CAP}: see total_exact`),
  total_exact: z.boolean().describe(`false: more than total (${INBOX_COUNT_CAP}) items match; the count stops there so that a page costs the same in any store`),
});

export const INBOX_ACTIONS = ['solve', 'assign_me', 'unassign', 'not_relevant', 'needs_reply', 'sentiment'] as const;
type InboxAction = (typeof INBOX_ACTIONS)[number];
const TICKET_ACTIONS: ReadonlySet<InboxAction> = new Set(['solve', 'assign_me', 'unassign']);

const actionBodySchema = z
  .object({
    mention_ids: z.array(bigIdString).min(1).max(200).describe('Up to 200 mentions; in the ticket views, the mention each ticket is shown by'),
    action: z
      .enum(INBOX_ACTIONS)
      .describe(
        "solve, assign_me, unassign: a change of the mention's ticket (as the inbox shows it), which its helpdesks and " +
          'channels hear of. not_relevant, needs_reply: the actionable correction (POST /mentions/{id}/actionable with ' +
          'false or true: sets the ticket the mention opened aside, or opens one). sentiment: the sentiment correction, with `label`',
      ),
    label: z.enum(CORRECTION_LABELS).optional().describe('The sentiment label: required for the sentiment action, and only for it'),
    note: z.string().max(2000).optional().describe("Kept with each correction or ticket change"),
  })
  .refine((b) => (b.action === 'sentiment') === (b.label !== undefined), {
    message: 'label is required for the sentiment action, and only for it',
    path: ['label'],
  });

const actionResultSchema = z.object({
  mention_id: z.string(),
  ok: z.boolean(),
  error: z.string().optional().describe('Why this mention was left as it was; only when ok is false'),
  mention: mentionDocument.optional().describe('The mention after the action; only when ok is true'),
  ticket: inboxTicketSchema.nullable().optional().describe("Its ticket after the action (null: none); only when ok is true"),
});

type ActionResult = z.output<typeof actionResultSchema>;

export function registerInboxRoutes(app: ZodApp, deps: ApiDeps): void {
  app.get(
    '/inbox',
    {
      config: { snapshotCache: true },
      schema: {
        operationId: 'listInbox',
        summary: 'The triage inbox: open tickets by priority, every ticket, or every mention, with filters',
        description:
          'One item per row: a mention and its ticket. Keyset paging: pass next_cursor back as cursor with the same ' +
          'view and sort (another view or sort refuses it). A mention\'s instant is its publication, or when it was ' +
          'first seen when the source gave no date. Ticket filters (status, team, assignee) leave out mentions without a ticket.',
        tags: ['inbox'],
        querystring: querySchema,
        response: { 200: listSchema, ...describeProblems(400, 401, 403, 500) },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const sort = q.sort ?? (q.view === 'needs_reply' ? 'priority' : 'newest');
      const after = q.cursor === undefined ? undefined : readCursor(q.cursor, q.view, sort);
      if (after === null) return sendProblem(request, reply, 400, 'This cursor belongs to another view or sort: start again without it.');
      let assignee: InboxFilter['assignee'];
      if (q.assignee === 'me') {
        const principal = request.principal!;
        if (principal.kind !== 'user') return sendProblem(request, reply, 400, 'assignee=me needs a signed-in person, not an API key.');
        assignee = { is: principal.name };
      } else if (q.assignee !== undefined) {
        assignee = q.assignee === 'none' ? { none: true } : { is: q.assignee };
      }
      const { items, hasMore, total, totalExact } = await listInbox(deps.db, {
        view: q.view,
        statuses: q.status,
        brand: q.brand,
        source: q.source,
        target: q.target,
        team: q.team,
        sentiments: q.sentiment,
        lang: q.lang,
        reason: q.reason,
        assignee,
        since: q.since === undefined ? undefined : new Date(q.since),
        until: q.until === undefined ? undefined : new Date(q.until),
        q: q.q,
        sort,
        limit: q.limit,
        after,
      });
      const last = items.at(-1);
      return {
        data: items.map(formatInboxItem),
        next_cursor: hasMore && last ? writeCursor(q.view, last.cursor) : null,
        has_more: hasMore,
        total,
        total_exact: totalExact,
      };
    },
  );

  app.post(
    '/inbox/actions',
    {
      schema: {
        operationId: 'applyInboxAction',
        summary: 'One action on up to 200 mentions at once, in one transaction',
        description:
          'Each mention gets a result: ok with the mention and its ticket as they are now, or not ok with why (no such ' +
          'mention, no ticket for a ticket action, a closed ticket\'s status). Recorded as the caller: user:<email> for a ' +
          'signed-in person. assign_me needs a signed-in person; ticket actions need the config (409 without it).',
        tags: ['inbox'],
        body: actionBodySchema,
        response: { 200: z.object({ results: z.array(actionResultSchema) }), ...describeProblems(400, 401, 403, 409, 500) },
      },
    },
    async (request, reply) => {
      const { action, label, note } = request.body;
      const principal = request.principal!;
      if (action === 'assign_me' && principal.kind !== 'user') {
        return sendProblem(request, reply, 400, 'only a signed-in person can be assigned');
      }
      if (TICKET_ACTIONS.has(action) && !deps.ticketPolicy) {
        return sendProblem(request, reply, 409, 'Tickets cannot be changed here: this API runs without the config.');
      }
      const mentionIds = [...new Set(request.body.mention_ids)];
      const ctx: ActionContext = {
        actor: actorOf(request), note: note ?? null, now: deps.now(), policy: deps.ticketPolicy, label, me: principal.name,
      };
      const results = await inTransaction(deps.db, (trx) => applyInboxAction(trx, mentionIds, action, ctx));
      return { results };
    },
  );
}

interface ActionContext {
  actor: string;
  note: string | null;
  now: Date;
  policy: TicketPolicy | null;
  label: CorrectionLabel | undefined;
  /** The caller's name: a signed-in person's email. */
  me: string;
}

/**
 * The action on each mention through the code the single-item routes use: ticket changes through changeTickets
 * (as PATCH /tickets/{id}), corrections through the store and the pipeline (as POST /mentions/{id}/…).
 */
async function applyInboxAction(trx: Db, mentionIds: readonly string[], action: InboxAction, ctx: ActionContext): Promise<ActionResult[]> {
  const errors = new Map<string, string>();
  if (TICKET_ACTIONS.has(action)) {
    const set: Extract<TicketChangeRequest, { kind: 'update' }>['set'] =
      action === 'solve' ? { status: 'solved' } : { assignee: action === 'assign_me' ? ctx.me : null };
    const before = await findInboxTicketsOfMentions(trx, mentionIds);
    const requests = mentionIds.flatMap((id): TicketChangeRequest[] => {
      const ticket = before.get(id);
      return ticket ? [{ ticketId: ticket.id, actor: ctx.actor, note: ctx.note, kind: 'update', set }] : [];
    });
    const { refused } = await changeTickets(trx, requests, { policy: ctx.policy!, now: ctx.now });
    const refusals = new Map(refused.map((r) => [r.ticketId, r.message]));
    for (const id of mentionIds) {
      const ticket = before.get(id);
      const refusal = ticket && refusals.get(ticket.id);
      if (!ticket) errors.set(id, `Mention ${id} has no ticket.`);
      else if (refusal) errors.set(id, refusal);
    }
  } else {
    for (const mentionId of mentionIds) {
      const input = { mentionId, actor: ctx.actor, note: ctx.note, now: ctx.now };
      // A mention that is not there is null here, and told apart below.
      if (action === 'sentiment') await correctSentiment(trx, { ...input, label: ctx.label! });
      else await correctActionableWithTicket(trx, { ...input, actionable: action === 'needs_reply' }, ctx.policy);
    }
  }
  const mentions = await getMentions(trx, mentionIds);
  const tickets = await findInboxTicketsOfMentions(trx, mentionIds);
  return mentionIds.map((id): ActionResult => {
    const mention = mentions.get(id);
    if (!mention) return { mention_id: id, ok: false, error: `There is no mention with id ${id}.` };
    const error = errors.get(id);
    if (error !== undefined) return { mention_id: id, ok: false, error };
    const ticket = tickets.get(id);
    return { mention_id: id, ok: true, mention: formatMention(mention), ticket: ticket ? formatInboxTicket(ticket) : null };
  });
}

function formatInboxItem(item: InboxItem): z.output<typeof inboxItemSchema> {
  return { mention: formatMention(item.mention), ticket: item.ticket && formatInboxTicket(item.ticket) };
}

function formatInboxTicket(t: InboxTicket): z.output<typeof inboxTicketSchema> {
  return {
    id: t.id,
    status: t.status,
    priority: t.priority,
    team: t.team,
    assignee: t.assignee,
    version: t.version,
    first_response_due_at: formatTimestamp(t.firstResponseDueAt),
    resolution_due_at: formatTimestamp(t.resolutionDueAt),
    breached: t.slaBreached.length > 0,
    sla_paused: t.slaPausedAt !== null,
    created_at: formatTimestamp(t.createdAt),
  };
}

// The cursor names its view and sort: positions of one list mean nothing in another.
function writeCursor(view: InboxView, cursor: InboxCursor): string {
  if (cursor.sort === 'newest') return encodeCursor({ v: view, s: 'newest', id: cursor.id });
  return encodeCursor({ v: view, s: 'priority', p: String(cursor.rank), d: cursor.dueAt?.toISOString() ?? 'none', id: cursor.id });
}

/** The cursor's position; null when it belongs to another view or sort. */
function readCursor(raw: z.output<typeof cursorSchema>, view: InboxView, sort: InboxCursor['sort']): InboxCursor | null {
  if (raw.v !== view || raw.s !== sort) return null;
  if (sort === 'newest') return { sort, id: raw.id };
  if (raw.p === undefined || raw.d === undefined) return null;
  return { sort, rank: Number(raw.p), dueAt: raw.d === 'none' ? null : new Date(raw.d), id: raw.id };
}
