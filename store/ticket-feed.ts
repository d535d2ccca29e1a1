import type { MentionAuthor } from '../crawlers/types.ts';
import type { ActionReason } from '../sentiment/types.ts';
import type { Db } from './connect.ts';
import { SENTIMENT_COLUMNS, storedSentiment, type StoredSentiment } from './mention-list.ts';
import type { OutboxStatus, TicketStatus } from './schema.ts';

export interface TicketFeedQuery {
  /** Only tickets with a seq above this one ("0" from the start). */
  afterSeq: string;
  limit: number;
  status?: TicketStatus | undefined;
}

export interface TicketDelivery {
  destinationKind: 'helpdesk' | 'channel';
  destinationId: string;
  status: OutboxStatus;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  deliveredAt: Date | null;
}

export interface TicketCluster {
  id: string;
  size: number;
  sources: string[];
  firstSeenAt: Date;
  lastSeenAt: Date;
}

export interface TicketFeedItem {
  id: string;
  seq: string;
  status: TicketStatus;
  priority: string;
  team: string;
  title: string;
  brand: string;
  createdAt: Date;
  updatedAt: Date;
  mention: {
    id: string;
    source: string;
    url: string | null;
    author: MentionAuthor;
    title: string | null;
    text: string;
    rating: number | null;
    publishedAt: Date | null;
    lang: string;
    sentiment: StoredSentiment;
    actionable: boolean;
    actionReasons: ActionReason[];
  };
  /** The story the ticket stands for: every copy of it attaches here. Null for tickets older than clusters. */
  cluster: TicketCluster | null;
  deliveries: TicketDelivery[];
}

/**
 * The helpdesk change feed, in seq order. Writers assign seq under an advisory lock inside the
 * inserting transaction, so seq order is commit order and `seq > afterSeq` neither skips nor repeats.
 */
export async function listTicketFeed(
  db: Db,
  query: TicketFeedQuery,
): Promise<{ tickets: TicketFeedItem[]; hasMore: boolean }> {
  let select = db
    .selectFrom('tickets as t')
    .innerJoin('mentions as m', 'm.id', 't.mention_id')
    .innerJoin('brands as b', 'b.id', 't.brand_id')
    .leftJoin('clusters as c', 'c.id', 't.cluster_id')
    .select([
      'c.id as cluster_id', 'c.size as cluster_size', 'c.sources as cluster_sources',
      'c.first_seen_at as cluster_first_seen_at', 'c.last_seen_at as cluster_last_seen_at',
      't.id', 't.seq', 't.status', 't.priority', 't.team', 't.title', 'b.name as brand', 't.created_at',
      't.updated_at', 'm.id as mention_id', 'm.source', 'm.url', 'm.author', 'm.title as mention_title', 'm.text',
      'm.rating', 'm.published_at', 'm.lang', ...SENTIMENT_COLUMNS,
      'm.actionable', 'm.action_reasons',
    ])
    .where('t.seq', '>', query.afterSeq)
    .orderBy('t.seq', 'asc')
    .limit(query.limit + 1);
  if (query.status !== undefined) select = select.where('t.status', '=', query.status);
  const rows = await select.execute();
  const hasMore = rows.length > query.limit;
  const page = rows.slice(0, query.limit);

  const deliveries = new Map<string, TicketDelivery[]>();
  if (page.length > 0) {
    const outbox = await db
      .selectFrom('outbox')
      .select(['ticket_id', 'destination_kind', 'destination_id', 'status', 'attempts', 'last_status', 'last_error', 'delivered_at'])
      .where('ticket_id', 'in', page.map((row) => row.id))
      .orderBy('id')
      .execute();
    for (const row of outbox) {
      if (row.ticket_id === null) continue;
      const list = deliveries.get(row.ticket_id) ?? [];
      list.push({
        destinationKind: row.destination_kind,
        destinationId: row.destination_id,
        status: row.status,
        attempts: row.attempts,
        lastStatus: row.last_status,
        lastError: row.last_error,
        deliveredAt: row.delivered_at,
      });
      deliveries.set(row.ticket_id, list);
    }
  }

  return {
    hasMore,
    tickets: page.map((row) => ({
      id: row.id,
      seq: row.seq,
      status: row.status,
      priority: row.priority,
      team: row.team,
      title: row.title,
      brand: row.brand,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      mention: {
        id: row.mention_id,
        source: row.source,
        url: row.url,
        author: row.author,
        title: row.mention_title,
        text: row.text,
        rating: row.rating,
        publishedAt: row.published_at,
        lang: row.lang,
        sentiment: storedSentiment(row),
        actionable: row.actionable,
        actionReasons: row.action_reasons,
      },
      cluster:
        row.cluster_id === null
          ? null
          : { id: row.cluster_id, size: row.cluster_size!, sources: row.cluster_sources!, firstSeenAt: row.cluster_first_seen_at!, lastSeenAt: row.cluster_last_seen_at! },
      deliveries: deliveries.get(row.id) ?? [],
    })),
  };
}
