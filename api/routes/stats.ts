import { z } from 'zod';
import {
  RESPONSE_TIME_GROUPINGS, measureResponseTimes, type DurationPercentiles, type ResponseTimeFigures,
} from '../../store/response-times.ts';
import { describeProblems, sendProblem } from '../errors.ts';
import { formatTimestamp, timestampSchema } from '../../documents/fields.ts';
import type { ApiDeps, ZodApp } from '../types.ts';

const DEFAULT_PERIOD_MS = 30 * 24 * 60 * 60 * 1000;

const querySchema = z.object({
  by: z
    .enum(RESPONSE_TIME_GROUPINGS)
    .describe("team: the ticket's team; source: the mention's source; brand: the ticket's brand, by name"),
  since: z.iso
    .datetime({ offset: true })
    .optional()
    .describe('Tickets opened at or after this instant; default: 30 days before `until`'),
  until: z.iso.datetime({ offset: true }).optional().describe('Tickets opened before this instant; default: now'),
});

const durationFields = {
  count: z.number().int().describe('How many tickets the percentiles are over'),
  p50_seconds: z.number().nullable().describe('Median, in seconds (millisecond precision); null when count is 0'),
  p90_seconds: z.number().nullable().describe('90th percentile (interpolated), in seconds; null when count is 0'),
};
const durationSchema = z.object(durationFields);

const figuresFields = {
  tickets: z.number().int().describe('Tickets opened in the period'),
  publish_to_ticket: durationSchema.describe(
    'From publication (first seen, when the source gave no date) to the ticket: how long crawling and earshot took to surface it',
  ),
  ticket_to_first_response: z
    .object({
      ...durationFields,
      unanswered: z.number().int().describe('Tickets of the period with no first response yet; not in the percentiles'),
    })
    .describe('From the ticket to its first response, over the tickets that have one'),
  publish_to_answer: durationSchema.describe(
    "From publication to the brand's answer on the source, over the mentions with a publication date and an answer " +
      'dated as an ISO 8601 instant with an offset; other answer dates are left out',
  ),
};

const responseSchema = z.object({
  since: timestampSchema,
  until: timestampSchema,
  by: z.enum(RESPONSE_TIME_GROUPINGS),
  groups: z
    .array(z.object({ key: z.string().describe('The team, source or brand name'), ...figuresFields }))
    .describe('One per key with tickets in the period, ordered by key (byte order); no group for a key without tickets'),
  total: z.object(figuresFields).describe('Every ticket of the period: not the sum of the groups, the percentiles are over all of them'),
});

export function registerStatsRoutes(app: ZodApp, deps: ApiDeps): void {
  app.get(
    '/stats/response-times',
    {
      schema: {
        operationId: 'getResponseTimes',
        summary: 'How fast tickets open and are answered: p50 and p90 per team, source or brand',
        description:
          'Over the tickets opened in [since, until). Percentiles are interpolated (percentile_cont). A negative duration, ' +
          "which clock skew between a source and earshot can produce (an answer dated before its mention), counts as 0 seconds.",
        tags: ['stats'],
        querystring: querySchema,
        response: { 200: responseSchema, ...describeProblems(400, 401, 403, 500) },
      },
    },
    async (request, reply) => {
      const { by } = request.query;
      const until = request.query.until === undefined ? deps.now() : new Date(request.query.until);
      const since = request.query.since === undefined ? new Date(until.getTime() - DEFAULT_PERIOD_MS) : new Date(request.query.since);
      if (since.getTime() >= until.getTime()) {
        const message = `must be before until (${until.toISOString()})`;
        return sendProblem(request, reply, 400, `querystring.since: ${message}`, [{ path: 'querystring.since', message }]);
      }
      const { groups, total } = await measureResponseTimes(deps.db, { by, since, until });
      return {
        since: formatTimestamp(since),
        until: formatTimestamp(until),
        by,
        groups: groups.map((group) => ({ key: group.key, ...formatFigures(group) })),
        total: formatFigures(total),
      };
    },
  );
}

function formatFigures(f: ResponseTimeFigures) {
  return {
    tickets: f.tickets,
    publish_to_ticket: formatDuration(f.publishToTicket),
    ticket_to_first_response: { ...formatDuration(f.ticketToFirstResponse), unanswered: f.ticketToFirstResponse.unanswered },
    publish_to_answer: formatDuration(f.publishToAnswer),
  };
}

function formatDuration(d: DurationPercentiles): z.output<typeof durationSchema> {
  return { count: d.count, p50_seconds: d.p50Seconds, p90_seconds: d.p90Seconds };
}
