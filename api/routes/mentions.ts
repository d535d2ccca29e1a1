import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { MentionDetails } from '../../crawlers/types.ts';
import {
  CORRECTION_LABELS, correctActionable, correctSentiment, listMentionCorrections, type Correction, type CorrectionResult,
} from '../../store/corrections.ts';
import { getMention, listMentions, type MentionListItem } from '../../store/mention-list.ts';
import type { Db } from '../../store/connect.ts';
import { openTicketForMention } from '../../pipeline/open-tickets.ts';
import { bigIdString, cursorParam, encodeCursor } from '../cursor.ts';
import { describeProblems, sendProblem } from '../errors.ts';
import {
  SENTIMENT_LABELS, actionReasonsSchema, apiSchemaRegistry, authorSchema, formatAuthor, formatSentiment, formatTimestamp,
  nullableTimestampSchema, pageSchema, sentimentSchema, timestampSchema,
} from '../schemas.ts';
import type { ApiDeps, ZodApp } from '../types.ts';

const mentionSchema = z
  .object({
    id: z.string(),
    source: z.string(),
    external_id: z.string(),
    brand: z.string().describe('The brand it was first stored for: its story, ticket and sentiment model are that brand\'s'),
    brands: z.array(z.string()).describe('Every brand it names; ?brand= finds it under each'),
    target_id: z.string().nullable(),
    url: z.string().nullable(),
    author: authorSchema,
    title: z.string().nullable(),
    text: z.string(),
    rating: z.number().int().nullable(),
    published_at: nullableTimestampSchema,
    first_seen_at: timestampSchema,
    updated_at: timestampSchema,
    lang: z.string(),
    sentiment: sentimentSchema,
    actionable: z.boolean(),
    action_reasons: actionReasonsSchema,
    cluster: z
      .object({
        id: z.string(),
        size: z.number().int().describe('How many mentions tell this story, across sources'),
        representative_id: z.string().describe('The first mention of the story'),
      })
      .nullable()
      .describe('The story (near-duplicate cluster) of this mention; list it with ?cluster=ID'),
    corrected: z
      .object({ sentiment: z.boolean(), actionable: z.boolean() })
      .describe('A person set this value; re-crawls keep it'),
    metrics: z.record(z.string(), z.number()),
    reply: z
      .object({ text: z.string(), at: z.string().nullable() })
      .nullable()
      .describe("The brand's own answer on the source (2GIS official answer, store developer reply)"),
    answered: z.boolean().describe('The brand has answered on the source; an answered mention opens no ticket'),
    details: z
      .object({
        verified: z.boolean().optional(),
        links: z.array(z.string()).optional(),
        forwarded_from: z.object({ name: z.string().nullable(), url: z.string().nullable() }).optional(),
        signature: z.string().optional(),
        version: z.string().optional(),
        place: z.string().optional(),
        sponsored: z.boolean().optional(),
      })
      .describe('What the source tells beyond the common fields; keys appear only when the source has them'),
  })
  .register(apiSchemaRegistry, { id: 'Mention' });

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

const correctedSchema = z.object({ correction: correctionSchema, mention: mentionSchema });

export function registerMentionRoutes(app: ZodApp, deps: ApiDeps): void {
  app.get(
    '/mentions',
    {
      schema: {
        operationId: 'listMentions',
        summary: 'List mentions, newest first',
        tags: ['mentions'],
        querystring: querySchema,
        response: { 200: pageSchema(mentionSchema), ...describeProblems(400, 401, 403, 500) },
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
          'marking it not actionable leaves an existing ticket as it is, for the helpdesk to close.',
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
        if (corrected && actionable && deps.ticketPolicy) {
          await openTicketForMention(trx, input.mentionId, { policy: deps.ticketPolicy, now: input.now });
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
function actorOf(request: FastifyRequest, by: string | undefined): string {
  return by ?? `apikey:${request.apiKey?.name ?? 'unknown'}`;
}

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

function formatMention(m: MentionListItem): z.output<typeof mentionSchema> {
  return {
    id: m.id,
    source: m.source,
    external_id: m.externalId,
    brand: m.brand,
    brands: m.brands,
    target_id: m.targetId,
    url: m.url,
    author: formatAuthor(m.author),
    title: m.title,
    text: m.text,
    rating: m.rating,
    published_at: formatTimestamp(m.publishedAt),
    first_seen_at: formatTimestamp(m.firstSeenAt),
    updated_at: formatTimestamp(m.updatedAt),
    lang: m.lang,
    sentiment: formatSentiment(m.sentiment),
    actionable: m.actionable,
    action_reasons: m.actionReasons,
    cluster: m.cluster === null ? null : { id: m.cluster.id, size: m.cluster.size, representative_id: m.cluster.representativeId },
    corrected: { sentiment: m.sentimentCorrected, actionable: m.actionableCorrected },
    metrics: Object.fromEntries(Object.entries(m.metrics ?? {}).filter((entry): entry is [string, number] => typeof entry[1] === 'number')),
    reply: m.reply ?? null,
    answered: m.reply !== null && m.reply !== undefined,
    details: formatDetails(m.details),
  };
}

function formatDetails(d: MentionDetails): z.output<typeof mentionSchema>['details'] {
  const { forwardedFrom, ...rest } = d;
  return forwardedFrom ? { ...rest, forwarded_from: forwardedFrom } : rest;
}
