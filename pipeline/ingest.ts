import { createHash } from 'node:crypto';
import type { MentionAuthor, MentionDraft } from '../crawlers/types.ts';
import { assessActionability } from '../sentiment/actionable.ts';
import { analyzeSentiment, loadBaseModels, type SentimentModels } from '../sentiment/analyze.ts';
import { detectLanguage } from '../sentiment/language.ts';
import type { Db } from '../store/connect.ts';
import { assignClusters, joinTitle } from '../store/clusters.ts';
import { upsertMentions, type StoredMentionRow } from '../store/mentions.ts';
import { compareTexts, prepareText, signText, type PreparedText } from './dedupe.ts';
import type { NewMention } from '../store/schema.ts';
import type { CompiledQuery } from './query.ts';
import { normalizeText } from './normalize.ts';

export interface IngestScope {
  brandId: number;
  targetId: string | null;
  /** The brand query; null keeps every item (reviews of the brand's own app). */
  matcher: CompiledQuery | null;
  /** The target's exclusion query: what it matches is dropped, even on the brand's own targets. */
  exclude?: CompiledQuery | null;
  /** The brand's sentiment models (adapted from its corrections); default: the shipped ones. */
  models?: SentimentModels;
  /** The brand's own accounts: what they post needs no reply. */
  ownAccounts?: readonly string[];
}

export interface PreparedBatch {
  rows: NewMention[];
  unmatched: number;
  /** Items of the page that repeat an externalId already on the page. */
  repeated: number;
}

/** The pure part of ingestion: normalize, keep brand matches, tag language and sentiment, hash content. */
export function prepareMentions(drafts: readonly MentionDraft[], scope: IngestScope, now: Date): PreparedBatch {
  const byKey = new Map<string, NewMention>();
  let unmatched = 0;
  let repeated = 0;
  const models = scope.models ?? loadBaseModels();
  const ownAccounts = new Set((scope.ownAccounts ?? []).map(accountKey));
  for (const draft of drafts) {
    const title = draft.title === null ? null : normalizeText(draft.title) || null;
    const text = normalizeText(draft.text);
    const matchText = `${title ?? ''}\n${text}`;
    if (
      (scope.exclude && scope.exclude.match(matchText) !== null) ||
      (scope.matcher && !draft.onOwnPage && scope.matcher.match(matchText) === null)
    ) {
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
    const sentiment = analyzeSentiment({ text: fullText, lang, rating: draft.rating }, models);
    const action = assessActionability({
      text: fullText, lang, sentiment, rating: draft.rating,
      ownPost: isOwnAccount(draft.author, ownAccounts),
      // The brand already answered on the source (2GIS official answer, store developer reply): no ticket.
      answered: draft.reply !== null,
      sponsored: draft.details?.sponsored === true,
    });
    byKey.set(key, {
      source: draft.source,
      external_id: draft.externalId,
      brand_id: scope.brandId,
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
    });
  }
  return { rows: [...byKey.values()], unmatched, repeated };
}

function accountKey(account: string): string {
  return account.trim().replace(/^@/, '').toLowerCase();
}

function isOwnAccount(author: MentionAuthor, own: ReadonlySet<string>): boolean {
  if (own.size === 0) return false;
  return [author.handle, author.id, author.name].some((value) => value !== null && value !== undefined && own.has(accountKey(String(value))));
}

/**
 * Puts the mentions a batch inserted into their stories' clusters. An edited mention keeps its cluster:
 * the story it started in is still the one people answered.
 */
export async function clusterNewMentions(db: Db, batch: PreparedBatch, inserted: readonly StoredMentionRow[]): Promise<Map<string, string>> {
  const rows = new Map(batch.rows.map((row) => [`${row.source}\u0000${row.external_id}`, row]));
  const members = inserted.map((s) => {
    const row = rows.get(`${s.source}\u0000${s.external_id}`)!;
    return {
      id: s.id, brandId: row.brand_id, source: row.source, text: joinTitle(row.title ?? null, row.text),
      fingerprint: row.fingerprint ?? null, lsh: row.lsh ?? [], seenAt: new Date(row.first_seen_at),
    };
  });
  // Candidates recur across a page's mentions (a story's copies meet the same members): prepare each once.
  const prepared = new Map<string, PreparedText>();
  const prepare = (text: string) => {
    let p = prepared.get(text);
    if (p === undefined) prepared.set(text, (p = prepareText(text)));
    return p;
  };
  return assignClusters(db, members, (text) => {
    const mine = prepare(text);
    return (candidate) => compareTexts(mine, prepare(candidate)).score;
  });
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
  return {
    stored,
    clusters,
    new: inserted.length,
    updated: stored.length - inserted.length,
    duplicates: batch.rows.length - stored.length + batch.repeated,
  };
}
