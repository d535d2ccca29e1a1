import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  CORRECTION_LABELS, correctSentiment, listMentionCorrections, type Correction, type CorrectionResult,
} from '../../store/corrections.ts';
import { getMention, listMentions, type MentionListItem } from '../../store/mention-list.ts';
import { findBrand } from '../../store/brands.ts';
import type { Db } from '../../store/connect.ts';
import { listStoryCopies } from '../../store/dashboard.ts';
import { findInboxTicketsOfMentions } from '../../store/inbox.ts';
import { listTicketHistory } from '../../store/tickets.ts';
import { correctActionableWithTicket } from '../../pipeline/open-tickets.ts';
import { brandQuery, matchTitleAndText, QuerySyntaxError, type Highlight } from '../../pipeline/query.ts';
import { formatTicketChange, loadTicketDocuments, ticketChangeSchema, ticketDocument } from '../../documents/ticket.ts';
import { bigIdString, cursorParam, encodeCursor } from '../cursor.ts';
import { actorOf } from '../auth.ts';
import { describeProblems, sendProblem } from '../errors.ts';
import { formatTimestamp, timestampSchema } from '../../documents/fields.ts';
import { SENTIMENT_LABELS } from '../../sentiment/types.ts';
import { formatMention, loadMentionDocuments, mentionDocument } from '../../documents/mention.ts';
import { apiSchemaRegistry, pageSchema } from '../schemas.ts';
import type { ApiDeps, ZodApp } from '../types.ts';

const querySchema = z.object({
  brand: z.string().min(1).optional().describe('Brand name: the mentions that name it'),
  source: z.string().min(1).optional(),
  sentiment: z.enum(SENTIMENT_LABELS).optional(),
  cluster: bigIdString.optional().describe('Only the mentions of this story'),
  since: z.iso
    .datetime({ offset: true })
    .optional()
    .describe('Only mentions published (or first seen, when the source gave no date) at or after this instant'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: cursorParam(z.object({ id: bigIdString })).optional(),
});

const CORRECTION_FIELDS = ['sentiment', 'actionable'] as const;

const correctionValueSchema = z.union([z.enum(SENTIMENT_LABELS), z.boolean()]);

const correctionSchema = z
  .object({
    id: z.string(),
    field: z.enum(CORRECTION_FIELDS),
    old: correctionValueSchema.describe('The value before: a label for sentiment, a boolean for actionable'),
    new: correctionValueSchema,
    by: z.string().describe('Who: the person named in `by`, else apikey:<key name>'),
    at: timestampSchema,
    note: z.string().nullable(),
  })
  .register(apiSchemaRegistry, { id: 'Correction' });

const mentionParamsSchema = z.object({ id: bigIdString.describe('Mention id') });

const correctionBodyFields = {
  by: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .optional()
    .describe('The person deciding (the triage UI user); defaults to apikey:<key name>'),
  note: z.string().max(2000).optional(),
};

const sentimentBodySchema = z.object({ label: z.enum(CORRECTION_LABELS), ...correctionBodyFields });
const actionableBodySchema = z.object({ actionable: z.boolean(), ...correctionBodyFields });

const correctedSchema = z.object({ correction: correctionSchema, mention: mentionDocument });

const COPIES_LIMIT = 50;

const spansSchema = z.array(z.object({ start: z.number().int(), end: z.number().int() }));

const mentionDetailSchema = z.object({
  mention: mentionDocument,
  highlights: z
    .object({
      title: spansSchema.describe('Spans of `mention.title`: UTF-16 offsets, end exclusive; empty without a title'),
      text: spansSchema.describe('Spans of `mention.text`, the same way'),
    })
    .describe("Where the query of the mention's brand (`mention.brand`) matches, as ingestion matched it; empty when it does not"),
  ticket: ticketDocument
    .nullable()
    .describe("The story's ticket: its open one, else the newest (a story may have had several); null when none"),
  history: z.array(ticketChangeSchema).describe("The ticket's changes, oldest first, as GET /tickets/{id}/history; empty without a ticket"),
  copies: z
    .array(mentionDocument)
    .describe(`The other mentions of the story, across sources, newest first; at most ${COPIES_LIMIT}`),
  copies_total: z.number().int().describe('How many other mentions the story has in all'),
});

export function registerMentionRoutes(app: ZodApp, deps: ApiDeps): void {
  app.get(
    '/mentions',
    {
      config: { snapshotCache: true },
      schema: {
        operationId: 'listMentions',
        summary: 'List mentions, newest first',
        tags: ['mentions'],
        querystring: querySchema,
        response: { 200: pageSchema(mentionDocument), ...describeProblems(400, 401, 403, 500) },
      },
    },
    async (request) => {
      const q = request.query;
      const { mentions, hasMore } = await listMentions(deps.db, {
        brand: q.brand,
        source: q.source,
        sentiment: q.sentiment,
        cluster: q.cluster,
        since: q.since === undefined ? undefined : new Date(q.since),
        beforeId: q.cursor?.id,
        limit: q.limit,
      });
      const last = mentions.at(-1);
      return {
        data: mentions.map(formatMention),
        next_cursor: hasMore && last ? encodeCursor({ id: last.id }) : null,
        has_more: hasMore,
      };
    },
  );

  app.get(
    '/mentions/:id',
    {
      config: { snapshotCache: true },
      schema: {
        operationId: 'getMentionDetail',
        summary: 'One mention with what a person triaging it needs: highlights, its story\'s ticket and copies',
        tags: ['mentions'],
        params: mentionParamsSchema,
        response: { 200: mentionDetailSchema, ...describeProblems(400, 401, 403, 404, 500) },
      },
    },
    async (request, reply) => {
      const mention = await getMention(deps.db, request.params.id);
      if (!mention) return mentionNotFound(request, reply, request.params.id);
      const clusterId = mention.cluster?.id ?? null;
      const [highlights, storyTickets, copies] = await Promise.all([
        highlightMention(deps, mention),
        findInboxTicketsOfMentions(deps.db, [mention.id]),
        clusterId === null ? { ids: [], total: 0 } : listStoryCopies(deps.db, clusterId, mention.id, COPIES_LIMIT),
      ]);
      // The ticket the inbox shows for it: its story's open ticket, else the newest.
      const ticketId = storyTickets.get(mention.id)?.id ?? null;
      const [tickets, history, copyDocuments] = await Promise.all([
        ticketId === null ? [] : loadTicketDocuments(deps.db, [ticketId]),
        ticketId === null ? [] : listTicketHistory(deps.db, ticketId),
        loadMentionDocuments(deps.db, copies.ids),
      ]);
      return {
        mention: formatMention(mention),
        highlights,
        ticket: tickets[0] ?? null,
        history: (history ?? []).map(formatTicketChange),
        copies: copies.ids.flatMap((id) => copyDocuments.get(id) ?? []),
        copies_total: copies.total,
      };
    },
  );

  app.post(
    '/mentions/:id/sentiment',
    {
      schema: {
        operationId: 'correctMentionSentiment',
        summary: "Set a mention's sentiment label as a person decided",
        description:
          'Records who changed it, when, and the old and new label; re-crawls keep the label. ' +
          'Setting the current label again is recorded too: a confirmation trains the brand model.',
        tags: ['mentions'],
        params: mentionParamsSchema,
        body: sentimentBodySchema,
        response: { 200: correctedSchema, ...describeProblems(400, 401, 403, 404, 500) },
      },
    },
    async (request, reply) => {
      const { label, by, note } = request.body;
      const input = { mentionId: request.params.id, label, actor: actorOf(request, by), note, now: deps.now() };
      return respondCorrected(deps.db, request, reply, input.mentionId, (trx) => correctSentiment(trx, input));
    },
  );

  app.post(
    '/mentions/:id/actionable',
    {
      schema: {
        operationId: 'correctMentionActionable',
        summary: 'Set whether a mention needs a reply, as a person decided',
        description:
          'Records who changed it, when, and the old and new value; re-crawls keep it. ' +
          'Marking it actionable opens a ticket for it (routed like a crawled one) unless it has one; ' +
          'marking it not actionable sets the open ticket it opened aside (status ignored, reason not_actionable), ' +
          'and its helpdesks hear of it.',
        tags: ['mentions'],
        params: mentionParamsSchema,
        body: actionableBodySchema,
        response: { 200: correctedSchema, ...describeProblems(400, 401, 403, 404, 500) },
      },
    },
    async (request, reply) => {
      const { actionable, by, note } = request.body;
      const input = { mentionId: request.params.id, actionable, actor: actorOf(request, by), note, now: deps.now() };
      return respondCorrected(deps.db, request, reply, input.mentionId, (trx) => correctActionableWithTicket(trx, input, deps.ticketPolicy));
    },
  );

  app.get(
    '/mentions/:id/corrections',
    {
      schema: {
        operationId: 'listMentionCorrections',
        summary: "A mention's corrections, newest first",
        tags: ['mentions'],
        params: mentionParamsSchema,
        response: { 200: z.object({ data: z.array(correctionSchema) }), ...describeProblems(400, 401, 403, 404, 500) },
      },
    },
    async (request, reply) => {
      const corrections = await listMentionCorrections(deps.db, request.params.id);
      if (corrections === null) return mentionNotFound(request, reply, request.params.id);
      return { data: corrections.map(formatCorrection) };
    },
  );
}

/** The person named in the request, else the key: a shared key alone does not say who decided. */
// The mention is read in the correction's transaction, so the answer shows exactly what was written.
async function respondCorrected(
  db: Db,
  request: FastifyRequest,
  reply: FastifyReply,
  mentionId: string,
  correct: (trx: Db) => Promise<CorrectionResult | null>,
) {
  const result = await db.transaction().execute(async (trx) => {
    const corrected = await correct(trx);
    if (!corrected) return null;
    const mention = await getMention(trx, mentionId);
    return mention && { correction: corrected.correction, mention };
  });
  if (!result) return mentionNotFound(request, reply, mentionId);
  return { correction: formatCorrection(result.correction), mention: formatMention(result.mention) };
}

function mentionNotFound(request: FastifyRequest, reply: FastifyReply, id: string) {
  return sendProblem(request, reply, 404, `There is no mention with id ${id}.`);
}

/**
 * Where the query of the mention's brand matches its stored title and text. Crawls compile the query from the brand
 * as the store keeps it (the config synced there), so that is the fallback: the query that kept the mention, unless
 * the config changed since.
 */
async function highlightMention(deps: ApiDeps, mention: MentionListItem): Promise<{ title: Highlight[]; text: Highlight[] }> {
  const none = { title: [], text: [] };
  let query = deps.brandQueries?.(mention.brand);
  if (!query) {
    const brand = await findBrand(deps.db, mention.brand);
    if (!brand) return none;
    try {
      query = brandQuery(brand);
    } catch (err) {
      // A stored query the language no longer accepts: the mention is still worth showing, without highlights.
      if (err instanceof QuerySyntaxError) return none;
      throw err;
    }
  }
  return matchTitleAndText(query, mention.title, mention.text) ?? none;
}

function formatCorrection(c: Correction): z.output<typeof correctionSchema> {
  const value = (raw: string) => (c.field === 'actionable' ? raw === 'true' : (raw as (typeof SENTIMENT_LABELS)[number]));
  return {
    id: c.id,
    field: c.field,
    old: value(c.oldValue),
    new: value(c.newValue),
    by: c.actor,
    at: formatTimestamp(c.createdAt),
    note: c.note,
  };
}
