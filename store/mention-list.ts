import { sql, type Selectable } from 'kysely';
import type { MentionAuthor, MentionDetails, MentionMetrics, MentionReply } from '../crawlers/types.ts';
import type { ActionReason } from '../sentiment/types.ts';
import type { Db } from './connect.ts';
import type { MentionTable, SentimentLabel } from './schema.ts';

export interface MentionListFilter {
  brand?: string | undefined;
  source?: string | undefined;
  sentiment?: SentimentLabel | undefined;
  /** Only the mentions of one story (near-duplicate cluster). */
  cluster?: string | undefined;
  /** Mentions published (or, when the source gave no date, first seen) at or after this instant. */
  since?: Date | undefined;
  /** Keyset cursor: only mentions with an id below this one. */
  beforeId?: string | undefined;
  limit: number;
}

export interface MentionListItem {
  id: string;
  source: string;
  externalId: string;
  /** The brand it was first stored for (its story, ticket and sentiment model). */
  brand: string;
  /** Every brand it names. */
  brands: string[];
  targetId: string | null;
  url: string | null;
  author: MentionAuthor;
  title: string | null;
  text: string;
  rating: number | null;
  publishedAt: Date | null;
  firstSeenAt: Date;
  updatedAt: Date;
  lang: string;
  sentiment: StoredSentiment;
  sentimentCorrected: boolean;
  actionable: boolean;
  actionReasons: ActionReason[];
  actionableCorrected: boolean;
  metrics: MentionMetrics;
  reply: MentionReply | null;
  details: MentionDetails;
  /** The story this mention belongs to: its cluster, how many mentions tell it, and the first of them. */
  cluster: { id: string; size: number; representativeId: string } | null;
}

/** Newest first by id; fetches one extra row to tell whether another page exists. */
export async function listMentions(db: Db, filter: MentionListFilter): Promise<{ mentions: MentionListItem[]; hasMore: boolean }> {
  let query = selectMentions(db).orderBy('m.id', 'desc').limit(filter.limit + 1);
  if (filter.brand !== undefined) {
    const name = filter.brand;
    // Driven by the links' (brand_id, mention_id) key, newest first, like the unfiltered list by id.
    query = query.innerJoin('mention_brands as mb', (join) =>
      join.onRef('mb.mention_id', '=', 'm.id').on('mb.brand_id', '=', (eb) => eb.selectFrom('brands as fb').select('fb.id').where('fb.name', '=', name)),
    );
  }
  if (filter.source !== undefined) query = query.where('m.source', '=', filter.source);
  if (filter.sentiment !== undefined) query = query.where('m.sentiment', '=', filter.sentiment);
  if (filter.cluster !== undefined) query = query.where('m.cluster_id', '=', filter.cluster);
  if (filter.since !== undefined) {
    query = query.where(sql<Date>`coalesce(m.published_at, m.first_seen_at)`, '>=', filter.since);
  }
  if (filter.beforeId !== undefined) query = query.where('m.id', '<', filter.beforeId);
  const rows = await query.execute();
  const hasMore = rows.length > filter.limit;
  return { hasMore, mentions: rows.slice(0, filter.limit).map(toListItem) };
}

/** One mention in the list's shape; null when there is none with this id. */
export async function getMention(db: Db, id: string): Promise<MentionListItem | null> {
  const row = await selectMentions(db).where('m.id', '=', id).executeTakeFirst();
  return row ? toListItem(row) : null;
}

/** Several mentions in the list's shape, by id; ids with no mention are absent. */
export async function getMentions(db: Db, ids: readonly string[]): Promise<Map<string, MentionListItem>> {
  if (ids.length === 0) return new Map();
  const rows = await selectMentions(db).where('m.id', 'in', [...ids]).execute();
  return new Map(rows.map((row) => [row.id, toListItem(row)]));
}

/** What a query preview shows of a mention. */
export interface MentionText {
  id: string;
  source: string;
  url: string | null;
  publishedAt: Date | null;
  title: string | null;
  text: string;
}

/** The most recent mentions naming the brand, newest first by id, with only their text and where they are. */
export async function listRecentMentionTexts(db: Db, brandId: number, limit: number): Promise<MentionText[]> {
  const rows = await db
    .selectFrom('mention_brands as mb')
    .innerJoin('mentions as m', 'm.id', 'mb.mention_id')
    .select(['m.id', 'm.source', 'm.url', 'm.published_at', 'm.title', 'm.text'])
    .where('mb.brand_id', '=', brandId)
    .orderBy('mb.mention_id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ id: r.id, source: r.source, url: r.url, publishedAt: r.published_at, title: r.title, text: r.text }));
}

function selectMentions(db: Db) {
  return db
    .selectFrom('mentions as m')
    .innerJoin('brands as b', 'b.id', 'm.brand_id')
    .leftJoin('clusters as c', 'c.id', 'm.cluster_id')
    .select([
      'c.id as cluster_id', 'c.size as cluster_size', 'c.representative_id as cluster_representative_id',
      'm.id', 'm.source', 'm.external_id', 'b.name as brand', 'm.target_id',
      sql<string[]>`array(SELECT lb.name FROM mention_brands l JOIN brands lb ON lb.id = l.brand_id WHERE l.mention_id = m.id ORDER BY lb.id)`.as('brands'), 'm.url', 'm.author', 'm.title',
      'm.text', 'm.rating', 'm.published_at', 'm.first_seen_at', 'm.updated_at', 'm.lang', ...SENTIMENT_COLUMNS,
      'm.sentiment_corrected',
      'm.actionable', 'm.action_reasons', 'm.actionable_corrected', 'm.metrics', 'm.reply', 'm.details',
    ]);
}

type MentionRow = Awaited<ReturnType<ReturnType<typeof selectMentions>['executeTakeFirstOrThrow']>>;

function toListItem(row: MentionRow): MentionListItem {
  return {
    id: row.id,
    source: row.source,
    externalId: row.external_id,
    brand: row.brand,
    brands: row.brands,
    targetId: row.target_id,
    url: row.url,
    author: row.author,
    title: row.title,
    text: row.text,
    rating: row.rating,
    publishedAt: row.published_at,
    firstSeenAt: row.first_seen_at,
    updatedAt: row.updated_at,
    lang: row.lang,
    sentiment: storedSentiment(row),
    sentimentCorrected: row.sentiment_corrected,
    actionable: row.actionable,
    actionReasons: row.action_reasons,
    actionableCorrected: row.actionable_corrected,
    metrics: row.metrics,
    reply: row.reply,
    details: row.details ?? {},
    cluster:
      row.cluster_id === null ? null : { id: row.cluster_id, size: row.cluster_size!, representativeId: row.cluster_representative_id! },
  };
}

/** A stored mention's sentiment as the API shows it, read from `SENTIMENT_COLUMNS` of `mentions as m`. */
export interface StoredSentiment {
  label: SentimentLabel;
  score: number | null;
  model: string;
  confidence: number | null;
  reason: string | null;
}

export const SENTIMENT_COLUMNS = ['m.sentiment', 'm.sentiment_score', 'm.sentiment_model', 'm.sentiment_confidence', 'm.sentiment_reason'] as const;

export function storedSentiment(row: Pick<Selectable<MentionTable>, 'sentiment' | 'sentiment_score' | 'sentiment_model' | 'sentiment_confidence' | 'sentiment_reason'>): StoredSentiment {
  return {
    label: row.sentiment, score: row.sentiment_score, model: row.sentiment_model,
    confidence: row.sentiment_confidence, reason: row.sentiment_reason,
  };
}
