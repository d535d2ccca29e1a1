import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { formatTicketChange, formatTickets, loadTicketDocuments, ticketChangeSchema, ticketDocument, type TicketDocument } from '../../documents/ticket.ts';
import { changeTickets } from '../../pipeline/ticket-changes.ts';
import { inTransaction, type Db } from '../../store/connect.ts';
import { TICKET_PRIORITIES, TICKET_STATUSES } from '../../store/schema.ts';
import { listTicketFeed } from '../../store/ticket-feed.ts';
import { claimIdempotencyKey, findIdempotentAnswer, keepIdempotentAnswer, listTicketHistory } from '../../store/tickets.ts';
import { actorOf, idempotencyOwnerOf } from '../auth.ts';
import { bigIdString, cursorParam, encodeCursor } from '../cursor.ts';
import { buildProblem, describeProblems, sendProblem } from '../errors.ts';
import type { ApiDeps, ZodApp } from '../types.ts';

const feedSchema = z.object({
  data: z.array(ticketDocument),
  next_cursor: z.string().describe('Always present: poll again with it, even after an empty page'),
  has_more: z.boolean(),
});

const querySchema = z.object({
  cursor: cursorParam(z.object({ seq: bigIdString })).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  status: z.enum(TICKET_STATUSES).optional(),
});

const paramsSchema = z.object({ id: bigIdString.describe('Ticket id') });

const patchBodySchema = z
  .object({
    status: z.enum(TICKET_STATUSES).optional(),
    priority: z.enum(TICKET_PRIORITIES).optional(),
    assignee: z.string().trim().min(1).max(200).nullable().optional().describe('Who works on it; null: nobody'),
    team: z.string().min(1).optional().describe('A team of the config'),
    by: z.string().trim().min(1).max(200).optional().describe('The person deciding; defaults to apikey:<key name>'),
    note: z.string().max(2000).optional(),
  })
  .refine((b) => b.status !== undefined || b.priority !== undefined || b.assignee !== undefined || b.team !== undefined, {
    message: 'give at least one of status, priority, assignee, team',
  });

const patchHeadersSchema = z.object({
  'if-match': z
    .string()
    .regex(/^(W\/)?"?[0-9]+"?$/, 'must be the ticket\'s version, e.g. "3"')
    .optional()
    .describe("The ticket's version as you last read it: the change is refused with 412 if it moved on"),
  'idempotency-key': z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe('Repeat a request with the same key (for 24 hours) and get the first answer again, applied once'),
});

const historySchema = z.object({ data: z.array(ticketChangeSchema) });

export function registerTicketRoutes(app: ZodApp, deps: ApiDeps): void {
  app.get(
    '/tickets',
    {
      config: { snapshotCache: true },
      schema: {
        operationId: 'listTickets',
        summary: 'Ticket change feed for helpdesks, in seq order',
        description:
          'Start without a cursor, then keep polling with next_cursor. Every change of a ticket (status, ' +
          'assignment, a copy joining its story, the brand answering on the source, an SLA breach) gives it a new ' +
          'seq, and seq order is commit order: the feed never skips or repeats a change, and a ticket shows once, ' +
          'as it is now.',
        tags: ['tickets'],
        querystring: querySchema,
        response: { 200: feedSchema, ...describeProblems(400, 401, 403, 500) },
      },
    },
    async (request) => {
      const { cursor, limit, status } = request.query;
      const afterSeq = cursor?.seq ?? '0';
      const { tickets, hasMore } = await listTicketFeed(deps.db, { afterSeq, limit, status });
      return {
        data: await formatTickets(deps.db, tickets),
        next_cursor: encodeCursor({ seq: tickets.at(-1)?.seq ?? afterSeq }),
        has_more: hasMore,
      };
    },
  );

  app.get(
    '/tickets/:id',
    {
      schema: {
        operationId: 'getTicket',
        summary: 'One ticket as it is now',
        tags: ['tickets'],
        params: paramsSchema,
        response: { 200: ticketDocument, ...describeProblems(400, 401, 403, 404, 500) },
      },
    },
    async (request, reply) => {
      const [ticket] = await loadTicketDocuments(deps.db, [request.params.id]);
      if (!ticket) return sendProblem(request, reply, 404, `There is no ticket with id ${request.params.id}.`);
      reply.header('etag', `"${ticket.version}"`);
      return ticket;
    },
  );

  app.get(
    '/tickets/:id/history',
    {
      schema: {
        operationId: 'listTicketHistory',
        summary: "A ticket's changes, oldest first",
        tags: ['tickets'],
        params: paramsSchema,
        response: { 200: historySchema, ...describeProblems(400, 401, 403, 404, 500) },
      },
    },
    async (request, reply) => {
      const history = await listTicketHistory(deps.db, request.params.id);
      if (history === null) return sendProblem(request, reply, 404, `There is no ticket with id ${request.params.id}.`);
      return {
        data: history.map(formatTicketChange),
      };
    },
  );

  app.patch(
    '/tickets/:id',
    {
      schema: {
        operationId: 'updateTicket',
        summary: "Change a ticket's status, priority, assignee or team",
        description:
          'How a helpdesk that pulls the feed reports back, and how the inbox works a ticket. The change gets a ' +
          'new seq and version, a history row, and a ticket.updated event to every helpdesk of the ticket. ' +
          'Leaving `new` is the first response. `pending` stops the SLA clocks until the ticket leaves it. ' +
          'A closed ticket keeps its status (409).',
        tags: ['tickets'],
        params: paramsSchema,
        headers: patchHeadersSchema,
        body: patchBodySchema,
        response: { 200: ticketDocument, ...describeProblems(400, 401, 403, 404, 409, 412, 422, 500) },
      },
    },
    async (request, reply) => {
      const key = request.headers['idempotency-key'];
      // The store's column is named for API keys; a person's keys are kept apart by a negative id.
      const apiKeyId = idempotencyOwnerOf(request.principal!);
      const requestHash = createHash('sha256').update(JSON.stringify([request.params.id, request.headers['if-match'] ?? null, request.body])).digest('base64url');
      const input = { id: request.params.id, body: request.body, ifMatch: request.headers['if-match'] };
      // The key is claimed, the change made and its answer kept in one transaction: a repeat, even one sent
      // at the same moment, waits for the first and gets its answer, and a crash keeps neither.
      const outcome = await inTransaction(deps.db, async (trx) => {
        if (key !== undefined && !(await claimIdempotencyKey(trx, { apiKeyId, key, requestHash }, deps.now()))) {
          return { replay: true as const, kept: await findIdempotentAnswer(trx, apiKeyId, key) };
        }
        const answer = await patchTicket(trx, deps, request, input);
        if (key !== undefined) await keepIdempotentAnswer(trx, { apiKeyId, key, status: answer.status, response: answer.body });
        return { replay: false as const, answer };
      });
      if (!outcome.replay) return sendAnswer(reply, outcome.answer);
      const { kept } = outcome;
      if (!kept || kept.request_hash !== requestHash) {
        return sendProblem(request, reply, 422, 'This Idempotency-Key was used with another request; use a new key for a new change.');
      }
      reply.header('idempotent-replayed', 'true');
      return sendAnswer(reply, { status: kept.status, body: kept.response });
    },
  );
}

/** A PATCH answer, fresh or kept for its Idempotency-Key: the ticket with its version as ETag, or a problem. */
function sendAnswer(reply: FastifyReply, answer: { status: number; body: unknown }) {
  if (answer.status !== 200) return reply.code(answer.status as 409).type('application/problem+json').send(answer.body as never);
  const ticket = answer.body as TicketDocument;
  reply.header('etag', `"${ticket.version}"`);
  return reply.code(200).send(ticket);
}

async function patchTicket(
  trx: Db,
  deps: ApiDeps,
  request: FastifyRequest,
  input: { id: string; body: z.output<typeof patchBodySchema>; ifMatch: string | undefined },
): Promise<{ status: number; body: unknown }> {
  const { id } = input;
  const { by, note, ...set } = input.body;
  const policy = deps.ticketPolicy;
  const problem = (status: number, detail: string) => ({ status, body: buildProblem(request, status, detail) });
  if (!policy) return problem(409, 'Tickets cannot be changed here: this API runs without the config.');
  if (set.team !== undefined && !policy.teams.includes(set.team)) {
    return problem(422, `Unknown team "${set.team}" (teams: ${policy.teams.join(', ')}).`);
  }
  const { ifMatch } = input;
  const ifVersion = ifMatch === undefined ? undefined : Number(ifMatch.replace(/^W\//, '').replaceAll('"', ''));
  const actor = actorOf(request, by);
  const now = deps.now();
  const { refused } = await changeTickets(trx, [{
    ticketId: id, actor, note: note ?? null, kind: 'update',
    set: Object.fromEntries(Object.entries(set).filter(([, v]) => v !== undefined)),
    ...(ifVersion === undefined ? {} : { ifVersion }),
  }], { policy, now });
  const refusal = refused[0];
  if (refusal) {
    const status = refusal.reason === 'missing' ? 404 : refusal.reason === 'version' ? 412 : 409;
    return problem(status, refusal.message);
  }
  const [ticket] = await loadTicketDocuments(trx, [id]);
  return { status: 200, body: ticket! };
}
