import { z } from 'zod';
import { OUTBOX_STATUSES } from '../../store/schema.ts';
import { listTicketFeed, type TicketFeedItem } from '../../store/ticket-feed.ts';
import { bigIdString, cursorParam, encodeCursor } from '../cursor.ts';
import { describeProblems } from '../errors.ts';
import {
  actionReasonsSchema, apiSchemaRegistry, authorSchema, formatAuthor, formatSentiment, formatTimestamp, nullableTimestampSchema,
  sentimentSchema, timestampSchema,
} from '../schemas.ts';
import type { ApiDeps, ZodApp } from '../types.ts';

const TICKET_STATUSES = ['new', 'open', 'pending', 'solved', 'closed'] as const;

const ticketSchema = z
  .object({
    id: z.string(),
    seq: z.string(),
    status: z.enum(TICKET_STATUSES),
    priority: z.string(),
    team: z.string(),
    title: z.string(),
    brand: z.string(),
    created_at: timestampSchema,
    updated_at: timestampSchema,
    mention: z.object({
      id: z.string(),
      source: z.string(),
      url: z.string().nullable(),
      author: authorSchema,
      title: z.string().nullable(),
      text: z.string(),
      rating: z.number().int().nullable(),
      published_at: nullableTimestampSchema,
      lang: z.string(),
      sentiment: sentimentSchema,
      actionable: z.boolean(),
      action_reasons: actionReasonsSchema,
    }),
    cluster: z
      .object({
        id: z.string(),
        size: z.number().int().describe('How many mentions tell this story: copies attach to the open ticket'),
        sources: z.array(z.string()),
        first_seen_at: timestampSchema,
        last_seen_at: timestampSchema,
      })
      .nullable(),
    deliveries: z.array(
      z.object({
        destination_kind: z.enum(['helpdesk', 'channel']),
        destination_id: z.string(),
        status: z.enum(OUTBOX_STATUSES),
        attempts: z.number().int(),
        last_status: z.number().int().nullable(),
        last_error: z.string().nullable(),
        delivered_at: nullableTimestampSchema,
      }),
    ),
  })
  .register(apiSchemaRegistry, { id: 'Ticket' });

const feedSchema = z.object({
  data: z.array(ticketSchema),
  next_cursor: z.string().describe('Always present: poll again with it, even after an empty page'),
  has_more: z.boolean(),
});

const querySchema = z.object({
  cursor: cursorParam(z.object({ seq: bigIdString })).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  status: z.enum(TICKET_STATUSES).optional(),
});

export function registerTicketRoutes(app: ZodApp, deps: ApiDeps): void {
  app.get(
    '/tickets',
    {
      schema: {
        operationId: 'listTickets',
        summary: 'Ticket change feed for helpdesks, in seq order',
        description:
          'Start without a cursor, then keep polling with next_cursor. Tickets come in seq order, and seq order ' +
          'is commit order, so the feed never skips or repeats a ticket.',
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
        data: tickets.map(formatTicket),
        next_cursor: encodeCursor({ seq: tickets.at(-1)?.seq ?? afterSeq }),
        has_more: hasMore,
      };
    },
  );
}

function formatTicket(t: TicketFeedItem): z.output<typeof ticketSchema> {
  return {
    id: t.id,
    seq: t.seq,
    status: t.status,
    priority: t.priority,
    team: t.team,
    title: t.title,
    brand: t.brand,
    created_at: formatTimestamp(t.createdAt),
    updated_at: formatTimestamp(t.updatedAt),
    mention: {
      id: t.mention.id,
      source: t.mention.source,
      url: t.mention.url,
      author: formatAuthor(t.mention.author),
      title: t.mention.title,
      text: t.mention.text,
      rating: t.mention.rating,
      published_at: formatTimestamp(t.mention.publishedAt),
      lang: t.mention.lang,
      sentiment: formatSentiment(t.mention.sentiment),
      actionable: t.mention.actionable,
      action_reasons: t.mention.actionReasons,
    },
    cluster:
      t.cluster === null
        ? null
        : {
            id: t.cluster.id, size: t.cluster.size, sources: t.cluster.sources,
            first_seen_at: formatTimestamp(t.cluster.firstSeenAt)!, last_seen_at: formatTimestamp(t.cluster.lastSeenAt)!,
          },
    deliveries: t.deliveries.map((d) => ({
      destination_kind: d.destinationKind,
      destination_id: d.destinationId,
      status: d.status,
      attempts: d.attempts,
      last_status: d.lastStatus,
      last_error: d.lastError,
      delivered_at: formatTimestamp(d.deliveredAt),
    })),
  };
}
