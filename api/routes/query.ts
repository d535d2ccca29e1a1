import { z } from 'zod';
import { compileQuery, highlight, matchTitleAndText, QuerySyntaxError, type CompiledQuery, type Highlight } from '../../pipeline/query.ts';
import { findBrand } from '../../store/brands.ts';
import { listRecentMentionTexts, type MentionText } from '../../store/mention-list.ts';
import { describeProblems, sendProblem } from '../errors.ts';
import { formatTimestamp, nullableTimestampSchema } from '../../documents/fields.ts';
import { apiSchemaRegistry } from '../schemas.ts';
import type { ApiDeps, ZodApp } from '../types.ts';

// Enough to judge a query on a busy brand, few enough to answer in about a tenth of a second.
const SCAN_LIMIT = 5000;

const bodySchema = z.object({
  brand: z.string().min(1).describe('Brand name'),
  query: z
    .string()
    .max(4000)
    .describe('A query in the query language: words (any form), "exact phrases", prefix*, AND, OR, NOT/-word, NEAR/n, ( )'),
  limit: z.number().int().min(1).max(200).default(20).describe('At most this many matches in `data`'),
});

const highlightsSchema = z.array(z.object({ start: z.number().int(), end: z.number().int() }));

const queryMatchSchema = z
  .object({
    id: z.string(),
    source: z.string(),
    url: z.string().nullable(),
    published_at: nullableTimestampSchema,
    title: z.string().nullable(),
    text: z.string(),
    highlights: highlightsSchema.describe('Spans of `text` that made it match: UTF-16 offsets, end exclusive'),
    title_highlights: highlightsSchema.describe('Spans of `title` that made it match, the same way'),
    highlighted: z.string().describe('`text` with each span in [[double brackets]]'),
    highlighted_title: z.string().nullable().describe('`title` marked the same way; null without a title'),
  })
  .register(apiSchemaRegistry, { id: 'QueryMatch' });

const previewSchema = z
  .object({
    query: z.string(),
    scanned: z.number().int().describe(`How many of the brand's most recent mentions were tried (at most ${SCAN_LIMIT})`),
    matched: z.number().int().describe('How many of those the query matches; `data` holds the first `limit`'),
    data: z.array(queryMatchSchema),
  })
  .register(apiSchemaRegistry, { id: 'QueryPreview' });

export function registerQueryRoutes(app: ZodApp, deps: ApiDeps): void {
  app.post(
    '/query/preview',
    {
      // It only reads: a read key may try queries.
      config: { scope: 'read' },
      schema: {
        operationId: 'previewQuery',
        summary: "Try a query on the brand's most recent stored mentions",
        description:
          `Matches the query against the brand's ${SCAN_LIMIT} newest mentions (title and text, as ingestion does) ` +
          'and returns the matches newest first with what made them match. A syntax error is a 400 naming the column.',
        tags: ['mentions'],
        body: bodySchema,
        response: { 200: previewSchema, ...describeProblems(400, 401, 403, 404, 500) },
      },
    },
    async (request, reply) => {
      const { brand: name, query: source, limit } = request.body;
      let query: CompiledQuery;
      try {
        query = compileQuery(source);
      } catch (err) {
        if (!(err instanceof QuerySyntaxError)) throw err;
        return sendProblem(request, reply, 400, `body.query: ${err.message}`, [{ path: 'body.query', message: err.message }]);
      }
      const brand = await findBrand(deps.db, name);
      if (!brand) return sendProblem(request, reply, 404, `There is no brand named "${name}".`);
      const mentions = await listRecentMentionTexts(deps.db, brand.id, SCAN_LIMIT);
      const data: z.output<typeof queryMatchSchema>[] = [];
      let matched = 0;
      for (const mention of mentions) {
        const found = matchTitleAndText(query, mention.title, mention.text);
        if (found === null) continue;
        matched++;
        if (data.length < limit) data.push(formatMatch(mention, found));
      }
      return { query: source, scanned: mentions.length, matched, data };
    },
  );
}

function formatMatch(m: MentionText, found: { title: Highlight[]; text: Highlight[] }): z.output<typeof queryMatchSchema> {
  return {
    id: m.id,
    source: m.source,
    url: m.url,
    published_at: formatTimestamp(m.publishedAt),
    title: m.title,
    text: m.text,
    highlights: found.text,
    title_highlights: found.title,
    highlighted: highlight(m.text, found.text),
    highlighted_title: m.title === null ? null : highlight(m.title, found.title),
  };
}
