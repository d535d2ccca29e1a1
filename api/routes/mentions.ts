import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  CORRECTION_LABELS, correctActionable, correctSentiment, listMentionCorrections, type Correction, type CorrectionResult,
} from '../../store/corrections.ts';
import { getMention, listMentions } from '../../store/mention-list.ts';
import type { Db } from '../../store/connect.ts';
import { ignoreTicketOfMention, openTicketForMention } from '../../pipeline/open-tickets.ts';
import { bigIdString, cursorParam, encodeCursor } from '../cursor.ts';
import { actorOf } from '../auth.ts';
import { describeProblems, sendProblem } from '../errors.ts';
import { formatTimestamp, timestampSchema } from '../../documents/fields.ts';
import { SENTIMENT_LABELS } from '../../sentiment/types.ts';
import { formatMention, mentionDocument } from '../../documents/mention.ts';
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

export function registerMentionRoutes(app: ZodApp, deps: ApiDeps): void {
  app.get(
    '/mentions',
    {
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
      return respondCorrected(deps.db, request, reply, input.mentionId, async (trx) => {
        const corrected = await correctActionable(trx, input);
        if (corrected && deps.ticketPolicy) {
          const ctx = { policy: deps.ticketPolicy, now: input.now, actor: input.actor };
          if (actionable) await openTicketForMention(trx, input.mentionId, ctx);
          else await ignoreTicketOfMention(trx, input.mentionId, ctx);
        }
        return corrected;
      });
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
