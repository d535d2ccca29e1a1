import { z } from 'zod';
import type { MentionDetails } from '../../crawlers/types.ts';
import { listMentions, type MentionListItem } from '../../store/mention-list.ts';
import { bigIdString, cursorParam, encodeCursor } from '../cursor.ts';
import { describeProblems } from '../errors.ts';
import {
  SENTIMENT_LABELS, apiSchemaRegistry, authorSchema, formatAuthor, formatSentiment, formatTimestamp,
  nullableTimestampSchema, pageSchema, sentimentSchema, timestampSchema,
} from '../schemas.ts';
import type { ApiDeps, ZodApp } from '../types.ts';

const mentionSchema = z
  .object({
    id: z.string(),
    source: z.string(),
    external_id: z.string(),
    brand: z.string(),
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
  brand: z.string().min(1).optional().describe('Brand name'),
  source: z.string().min(1).optional(),
  sentiment: z.enum(SENTIMENT_LABELS).optional(),
  since: z.iso
    .datetime({ offset: true })
    .optional()
    .describe('Only mentions published (or first seen, when the source gave no date) at or after this instant'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: cursorParam(z.object({ id: bigIdString })).optional(),
});

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
}

function formatMention(m: MentionListItem): z.output<typeof mentionSchema> {
  return {
    id: m.id,
    source: m.source,
    external_id: m.externalId,
    brand: m.brand,
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
    sentiment: formatSentiment(m.sentiment, m.sentimentScore, m.sentimentModel),
    actionable: m.actionable,
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
