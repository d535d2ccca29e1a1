import { z } from 'zod';
import { loadMentionDocuments, mentionDocument } from '../../documents/mention.ts';
import { formatTimestamp, timestampSchema } from '../../documents/fields.ts';
import { isTimeZone } from '../../lib/time-zone.ts';
import { countMentionVolume, listTopStories } from '../../store/dashboard.ts';
import { describeProblems } from '../errors.ts';
import type { ApiDeps, ZodApp } from '../types.ts';

const DAY_MS = 86_400_000;

const volumeQuerySchema = z.object({
  brand: z.string().min(1).optional().describe('Only the mentions stored for this brand (their `brand`)'),
  source: z.string().min(1).optional(),
  days: z.coerce.number().int().min(1).max(365).default(30).describe('How many local days, today included'),
  tz: z
    .string()
    .max(64)
    .refine(isTimeZone, { message: 'unknown time zone; give an IANA name such as Asia/Almaty' })
    .default('UTC')
    .describe('The IANA time zone whose days the buckets are'),
});

const volumeSchema = z.object({
  from: timestampSchema.describe('The start of the first day in `tz`'),
  to: timestampSchema.describe('Now: mentions dated later (clock skew) are left out'),
  buckets: z
    .array(
      z.object({
        day: z.string().describe('The local date in `tz`, YYYY-MM-DD'),
        brand: z.string().describe('The brand the mentions were stored for'),
        source: z.string(),
        positive: z.number().int(),
        neutral: z.number().int(),
        negative: z.number().int(),
        mixed: z.number().int(),
        total: z.number().int().describe('Every mention of the bucket; unscored ones count only here'),
      }),
    )
    .describe('One per day, brand and source with mentions (none for a quiet one), by day, then brand and source (byte order)'),
});

const storiesQuerySchema = z.object({
  days: z.coerce.number().int().min(1).max(365).default(7).describe('The window: the last `days` × 24 hours'),
  brand: z.string().min(1).optional().describe("Only this brand's stories"),
  limit: z.coerce.number().int().min(1).max(50).default(10),
});

const storiesSchema = z.object({
  data: z
    .array(
      z.object({
        cluster_id: z.string(),
        size: z.number().int().describe('How many mentions tell the story in all'),
        mentions_in_window: z.number().int(),
        sources: z.array(z.string()).describe("The story's sources, in all"),
        first_seen_at: timestampSchema.describe('When earshot saw the story first'),
        last_seen_at: timestampSchema.describe('When earshot saw a mention of it last'),
        negative_share: z.number().min(0).max(1).describe('The share of the mentions in the window labelled negative'),
        representative: mentionDocument.describe('The first mention of the story'),
      }),
    )
    .describe('Most mentions in the window first; the newer story first among equals'),
});

export function registerDashboardRoutes(app: ZodApp, deps: ApiDeps): void {
  app.get(
    '/stats/mentions',
    {
      schema: {
        operationId: 'getMentionVolume',
        summary: 'Mentions per local day, brand and source, by tone',
        description:
          'A mention counts on the day it was published, or first seen when the source gave no date (as `since` of ' +
          'GET /mentions), in the time zone `tz`; a day is 23 or 25 hours where daylight saving time changes.',
        tags: ['stats'],
        querystring: volumeQuerySchema,
        response: { 200: volumeSchema, ...describeProblems(400, 401, 403, 500) },
      },
    },
    async (request) => {
      const { brand, source, days, tz } = request.query;
      const now = deps.now();
      const { dates, starts } = localDays(now, days, tz);
      const rows = await countMentionVolume(deps.db, { dayStarts: starts, until: now, brand, source });
      return {
        from: formatTimestamp(starts[0]!),
        to: formatTimestamp(now),
        buckets: rows.map(({ day, ...counts }) => ({ day: dates[day]!, ...counts })),
      };
    },
  );

  app.get(
    '/stats/stories',
    {
      schema: {
        operationId: 'getTopStories',
        summary: 'The stories with the most mentions lately',
        description:
          'Stories (near-duplicate clusters) by their mentions dated in the window: published, or first seen when the ' +
          'source gave no date.',
        tags: ['stats'],
        querystring: storiesQuerySchema,
        response: { 200: storiesSchema, ...describeProblems(400, 401, 403, 500) },
      },
    },
    async (request) => {
      const { days, brand, limit } = request.query;
      const until = deps.now();
      const stories = await listTopStories(deps.db, { since: new Date(until.getTime() - days * DAY_MS), until, brand, limit });
      const representatives = await loadMentionDocuments(deps.db, stories.map((s) => s.representativeId));
      return {
        data: stories.flatMap((s) => {
          const representative = representatives.get(s.representativeId);
          if (!representative) return [];
          return [{
            cluster_id: s.clusterId,
            size: s.size,
            mentions_in_window: s.mentionsInWindow,
            sources: s.sources,
            first_seen_at: formatTimestamp(s.firstSeenAt),
            last_seen_at: formatTimestamp(s.lastSeenAt),
            negative_share: s.mentionsInWindow === 0 ? 0 : s.negativeInWindow / s.mentionsInWindow,
            representative,
          }];
        }),
      };
    },
  );
}

/**
 * The last `count` local days of `zone` up to `now`, today included: their dates, and the `count + 1` instants
 * where they start (the last one is tomorrow's start). Computed here, with the time zone data the `tz` check
 * used, so the database needs none.
 */
function localDays(now: Date, count: number, zone: string): { dates: string[]; starts: Date[] } {
  const wallClock = wallClockOf(zone);
  const today = Math.floor(wallClock(now.getTime()) / DAY_MS) * DAY_MS;
  const dates: string[] = [];
  const starts: Date[] = [];
  for (let i = count - 1; i >= -1; i--) {
    const midnight = today - i * DAY_MS;
    if (i >= 0) dates.push(new Date(midnight).toISOString().slice(0, 10));
    starts.push(new Date(startOfLocalDay(wallClock, midnight)));
  }
  return { dates, starts };
}

/** The zone's wall clock at an instant, written as if it were UTC (whole seconds). */
function wallClockOf(zone: string): (instant: number) => number {
  const numeric = 'numeric' as const;
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone: zone, hourCycle: 'h23', year: numeric, month: numeric, day: numeric, hour: numeric, minute: numeric, second: numeric,
  });
  return (instant) => {
    const parts = format.formatToParts(instant);
    const read = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((part) => part.type === type)?.value);
    return Date.UTC(read('year'), read('month') - 1, read('day'), read('hour'), read('minute'), read('second'));
  };
}

/** The first instant whose wall clock shows the day of `midnight` (written as UTC): 01:00 where the clocks skip midnight. */
function startOfLocalDay(wallClock: (instant: number) => number, midnight: number): number {
  const guess = midnight - (wallClock(midnight) - midnight);
  let instant = midnight - (wallClock(guess) - guess);
  // The offset read again lands before midnight when midnight does not exist: move on past the gap.
  const shown = wallClock(instant);
  if (shown < midnight) instant += midnight - shown;
  return instant;
}
