import { sql, type RawBuilder } from 'kysely';
import type { Db } from './connect.ts';

export const RESPONSE_TIME_GROUPINGS = ['team', 'source', 'brand'] as const;
export type ResponseTimeGrouping = (typeof RESPONSE_TIME_GROUPINGS)[number];

/** Percentiles of one duration, in seconds rounded to the millisecond; null when `count` is 0. */
export interface DurationPercentiles {
  count: number;
  p50Seconds: number | null;
  p90Seconds: number | null;
}

export interface ResponseTimeFigures {
  tickets: number;
  /** Published (first seen when the source gave no date) → ticket opened. */
  publishToTicket: DurationPercentiles;
  /** Ticket opened → first response; `unanswered` tickets have none yet (spam and ignored ones are not owed one). */
  ticketToFirstResponse: DurationPercentiles & { unanswered: number };
  /** Published → the brand's answer on the source, for mentions with both dates. */
  publishToAnswer: DurationPercentiles;
}

export interface ResponseTimeGroup extends ResponseTimeFigures {
  /** The team, the mention's source, or the brand's name. */
  key: string;
}

export interface ResponseTimes {
  /** Ordered by key, byte-wise. */
  groups: ResponseTimeGroup[];
  total: ResponseTimeFigures;
}

const GROUP_KEYS: Record<ResponseTimeGrouping, RawBuilder<unknown>> = {
  team: sql`t.team`,
  source: sql`m.source`,
  brand: sql`b.name`,
};

// A crawler stores the source's answer date as given; only a full ISO 8601 instant with an offset counts,
// since without one the instant would depend on the server's time zone.
const ISO_INSTANT =
  '^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]{1,9})?)?(Z|[+-](0[0-9]|1[0-5])(:?[0-5][0-9])?)$';

interface FiguresRow {
  key: string | null;
  is_total: number;
  tickets: number;
  ptt_count: number;
  ptt_p50: number | null;
  ptt_p90: number | null;
  tfr_count: number;
  tfr_unanswered: number;
  tfr_p50: number | null;
  tfr_p90: number | null;
  pta_count: number;
  pta_p50: number | null;
  pta_p90: number | null;
}

/**
 * p50 and p90 of how fast tickets opened and were answered, per team, source or brand and in total, over
 * the tickets opened in [since, until). Negative durations (clock skew between source and us) count as 0.
 */
export async function measureResponseTimes(
  db: Db,
  opts: { by: ResponseTimeGrouping; since: Date; until: Date },
): Promise<ResponseTimes> {
  // Nested CASEs: SQL guarantees their order, so a malformed date is never cast (the cast would throw,
  // and PostgreSQL 15 has no pg_input_is_valid); the day check rejects 30 February and the like.
  const { rows } = await sql<FiguresRow>`
    WITH period AS (
      SELECT ${GROUP_KEYS[opts.by]} AS key, t.created_at, t.first_response_at, t.status,
        coalesce(m.published_at, m.first_seen_at) AS seen_published_at, m.published_at,
        m.reply->>'at' AS answer_text
      FROM tickets t
      JOIN mentions m ON m.id = t.mention_id
      JOIN brands b ON b.id = t.brand_id
      WHERE t.created_at >= ${opts.since}::timestamptz AND t.created_at < ${opts.until}::timestamptz
    ),
    parsed AS (
      SELECT period.*,
        CASE WHEN answer_text ~ ${ISO_INSTANT} THEN
          CASE WHEN substr(answer_text, 9, 2)::int <= extract(day FROM
              make_date(substr(answer_text, 1, 4)::int, substr(answer_text, 6, 2)::int, 1) + interval '1 month - 1 day')
            THEN answer_text::timestamptz
          END
        END AS answered_at
      FROM period
    ),
    durations AS (
      SELECT key,
        -- Set aside as spam or not actionable: nobody owes them an answer.
        (first_response_at IS NULL AND status NOT IN ('spam', 'ignored')) AS unanswered,
        ${clampedSeconds(sql`created_at`, sql`seen_published_at`)} AS publish_to_ticket,
        ${clampedSeconds(sql`first_response_at`, sql`created_at`)} AS ticket_to_first_response,
        ${clampedSeconds(sql`answered_at`, sql`published_at`)} AS publish_to_answer
      FROM parsed
    )
    SELECT key, GROUPING(key) AS is_total, count(*)::int AS tickets,
      count(publish_to_ticket)::int AS ptt_count,
      ${percentile(0.5, sql`publish_to_ticket`)} AS ptt_p50,
      ${percentile(0.9, sql`publish_to_ticket`)} AS ptt_p90,
      count(ticket_to_first_response)::int AS tfr_count,
      count(*) FILTER (WHERE unanswered)::int AS tfr_unanswered,
      ${percentile(0.5, sql`ticket_to_first_response`)} AS tfr_p50,
      ${percentile(0.9, sql`ticket_to_first_response`)} AS tfr_p90,
      count(publish_to_answer)::int AS pta_count,
      ${percentile(0.5, sql`publish_to_answer`)} AS pta_p50,
      ${percentile(0.9, sql`publish_to_answer`)} AS pta_p90
    FROM durations
    GROUP BY GROUPING SETS ((key), ())
    ORDER BY GROUPING(key) DESC, key COLLATE "C"
  `.execute(db);

  // The empty grouping set yields its row even over no tickets, so the total is always there.
  const [totalRow, ...groupRows] = rows;
  if (!totalRow || Number(totalRow.is_total) !== 1) throw new Error('response times: the total row is missing');
  return {
    groups: groupRows.map((row) => ({ key: row.key as string, ...toFigures(row) })),
    total: toFigures(totalRow),
  };
}

/** Seconds from `from` to `to`, 0 when negative, null when either is null (GREATEST would turn null into 0). */
function clampedSeconds(to: RawBuilder<unknown>, from: RawBuilder<unknown>) {
  return sql`CASE WHEN ${to} < ${from} THEN 0::float8 ELSE extract(epoch FROM ${to} - ${from})::float8 END`;
}

function percentile(fraction: number, column: RawBuilder<unknown>) {
  return sql`round((percentile_cont(${sql.lit(fraction)}) WITHIN GROUP (ORDER BY ${column}))::numeric, 3)::float8`;
}

function toFigures(row: FiguresRow): ResponseTimeFigures {
  return {
    tickets: row.tickets,
    publishToTicket: { count: row.ptt_count, p50Seconds: row.ptt_p50, p90Seconds: row.ptt_p90 },
    ticketToFirstResponse: {
      count: row.tfr_count,
      p50Seconds: row.tfr_p50,
      p90Seconds: row.tfr_p90,
      unanswered: row.tfr_unanswered,
    },
    publishToAnswer: { count: row.pta_count, p50Seconds: row.pta_p50, p90Seconds: row.pta_p90 },
  };
}
