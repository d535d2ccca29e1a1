import { createHash } from 'node:crypto';
import type { MentionAuthor, MentionDraft } from '../crawlers/types.ts';
import { assessActionability } from '../sentiment/actionable.ts';
import { analyzeSentiment, loadBaseModels, type SentimentModels } from '../sentiment/analyze.ts';
import { detectLanguage } from '../sentiment/language.ts';
import type { Db } from '../store/connect.ts';
import { assignClusters, joinTitle, type ClusterMember } from '../store/clusters.ts';
import { linkMentionBrands, upsertMentions, type StoredMentionRow } from '../store/mentions.ts';
import { compareTexts, prepareText, signText, type PreparedText } from './dedupe.ts';
import type { NewMention } from '../store/schema.ts';
import type { CompiledQuery } from './query.ts';
import { normalizeText } from './normalize.ts';

/** One brand a target listens for. */
export interface IngestBrand {
  id: number;
  /** The brand query; null: the brand keeps every item (reviews of its own branch or app). */
  matcher: CompiledQuery | null;
  /** The brand's sentiment models (adapted from its corrections); default: the shipped ones. */
  models?: SentimentModels;
  /** The brand's own accounts: what they post needs no reply. */
  ownAccounts?: readonly string[];
}

export interface IngestScope {
  /**
   * The target's brands in config order. An item is kept for each brand that keeps it; the first of them is
   * the brand it is stored for (its story, ticket and sentiment model). The first brand also owns the items
   * posted on its own page, which need not name it.
   */
  brands: readonly IngestBrand[];
  targetId: string | null;
  /** The target's exclusion query: what it matches is dropped, even on the brand's own targets. */
  exclude?: CompiledQuery | null;
}

export interface PreparedBatch {
  rows: NewMention[];
  /** The brands each row names, aligned with `rows`; `rows[i].brand_id` is the first. */
  brandIds: number[][];
  unmatched: number;
  /** Items of the page that repeat an externalId already on the page. */
  repeated: number;
}

/** The pure part of ingestion: normalize, keep brand matches, tag language and sentiment, hash content. */
export function prepareMentions(drafts: readonly MentionDraft[], scope: IngestScope, now: Date): PreparedBatch {
  const byKey = new Map<string, { row: NewMention; brandIds: number[] }>();
  let unmatched = 0;
  let repeated = 0;
  const brands = scope.brands.map((brand) => ({
    ...brand,
    models: brand.models ?? loadBaseModels(),
    ownAccounts: new Set((brand.ownAccounts ?? []).map(accountKey)),
  }));
  for (const draft of drafts) {
    const title = draft.title === null ? null : normalizeText(draft.title) || null;
    const text = normalizeText(draft.text);
    const matchText = `${title ?? ''}\n${text}`;
    const keeping =
      scope.exclude && scope.exclude.match(matchText) !== null
        ? []
        : brands.filter((brand, i) => brand.matcher === null || (i === 0 && draft.onOwnPage) || brand.matcher.match(matchText) !== null);
    const brand = keeping[0];
    if (brand === undefined) {
      unmatched++;
      continue;
    }
    const key = `${draft.source}\u0000${draft.externalId}`;
    if (byKey.has(key)) repeated++;
    const replyText = draft.reply ? normalizeText(draft.reply.text) : null;
    const fullText = joinTitle(title, text);
    // Signed before line breaks are collapsed: a comment paragraph on a repost gets bands of its own.
    const signature = signText(joinTitle(title, draft.text));
    const lang = detectLanguage(fullText);
    const sentiment = analyzeSentiment({ text: fullText, lang, rating: draft.rating }, brand.models);
    const action = assessActionability({
      text: fullText, lang, sentiment, rating: draft.rating,
      ownPost: isOwnAccount(draft.author, brand.ownAccounts),
      // The brand already answered on the source (2GIS official answer, store developer reply): no ticket.
      answered: draft.reply !== null,
      sponsored: draft.details?.sponsored === true,
    });
    const row: NewMention = {
      source: draft.source,
      external_id: draft.externalId,
      brand_id: brand.id,
      target_id: scope.targetId,
      url: draft.url,
      author: JSON.stringify(draft.author),
      title,
      text,
      content_hash: hashContent(title, text, draft.rating, replyText),
      rating: draft.rating,
      published_at: draft.publishedAt,
      first_seen_at: now,
      updated_at: now,
      lang,
      sentiment: sentiment.label,
      sentiment_score: sentiment.score,
      sentiment_model: sentiment.model,
      sentiment_confidence: sentiment.confidence,
      sentiment_reason: sentiment.reason ?? null,
      actionable: action.actionable,
      action_reasons: action.reasons,
      metrics: JSON.stringify(draft.metrics),
      reply: JSON.stringify(draft.reply ? { text: replyText, at: draft.reply.at } : null),
      parent_external_id: draft.parentExternalId,
      details: JSON.stringify(draft.details ?? {}),
      fingerprint: signature.fingerprint,
      lsh: signature.bands,
    };
    byKey.set(key, { row, brandIds: keeping.map((b) => b.id) });
  }
  const prepared = [...byKey.values()];
  return { rows: prepared.map((p) => p.row), brandIds: prepared.map((p) => p.brandIds), unmatched, repeated };
}

function accountKey(account: string): string {
  return account.trim().replace(/^@/, '').toLowerCase();
}

function isOwnAccount(author: MentionAuthor, own: ReadonlySet<string>): boolean {
  if (own.size === 0) return false;
  return [author.handle, author.id, author.name].some((value) => value !== null && value !== undefined && own.has(accountKey(String(value))));
}

/**
 * Puts the mentions a batch inserted into their stories' clusters, each among the stories of the brand it is
 * stored for. An edited mention keeps its cluster: the story it started in is still the one people answered.
 */
export async function clusterNewMentions(db: Db, batch: PreparedBatch, inserted: readonly StoredMentionRow[]): Promise<Map<string, string>> {
  const rows = new Map(batch.rows.map((row) => [`${row.source}\u0000${row.external_id}`, row]));
  const byBrand = new Map<number, ClusterMember[]>();
  for (const s of inserted) {
    const row = rows.get(`${s.source}\u0000${s.external_id}`)!;
    const member = {
      id: s.id, brandId: row.brand_id, source: row.source, text: joinTitle(row.title ?? null, row.text),
      fingerprint: row.fingerprint ?? null, lsh: row.lsh ?? [], seenAt: new Date(row.first_seen_at),
    };
    const members = byBrand.get(row.brand_id);
    if (members) members.push(member);
    else byBrand.set(row.brand_id, [member]);
  }
  // Candidates recur across a page's mentions (a story's copies meet the same members): prepare each once.
  const prepared = new Map<string, PreparedText>();
  const prepare = (text: string) => {
    let p = prepared.get(text);
    if (p === undefined) prepared.set(text, (p = prepareText(text)));
    return p;
  };
  const sameStory = (text: string) => {
    const mine = prepare(text);
    return (candidate: string) => compareTexts(mine, prepare(candidate)).score;
  };
  const assigned = new Map<string, string>();
  for (const members of byBrand.values()) {
    for (const [mention, cluster] of await assignClusters(db, members, sameStory)) assigned.set(mention, cluster);
  }
  return assigned;
}

/** What changes here is what makes a re-crawled item an update: the text, the rating, the brand's reply. */
export function hashContent(title: string | null, text: string, rating: number | null, reply: string | null): string {
  return createHash('sha256').update(JSON.stringify([title, text, rating, reply])).digest('base64url');
}

export interface StoreResult {
  stored: StoredMentionRow[];
  /** Cluster of every mention inserted by this batch. */
  clusters: Map<string, string>;
  new: number;
  updated: number;
  duplicates: number;
}

export async function storeMentions(db: Db, batch: PreparedBatch): Promise<StoreResult> {
  const stored = await upsertMentions(db, batch.rows);
  const inserted = stored.filter((r) => r.inserted);
  const clusters = await clusterNewMentions(db, batch, inserted);
  // Every brand the item names, whichever target first stored it: a repeat from another brand's target links it too.
  await linkMentionBrands(db, batch.rows.flatMap((row, i) => batch.brandIds[i]!.map((brandId) => ({ source: row.source, externalId: row.external_id, brandId }))));
  return {
    stored,
    clusters,
    new: inserted.length,
    updated: stored.length - inserted.length,
    duplicates: batch.rows.length - stored.length + batch.repeated,
  };
}
