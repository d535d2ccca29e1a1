import { createHash } from 'node:crypto';
import type { MentionDraft } from '../crawlers/types.ts';
import { detectLanguage } from '../sentiment/language.ts';
import { isActionable, scoreSentiment } from '../sentiment/score.ts';
import type { Db } from '../store/connect.ts';
import { upsertMentions, type StoredMentionRow } from '../store/mentions.ts';
import type { NewMention } from '../store/schema.ts';
import type { KeywordMatcher } from './match.ts';
import { normalizeText } from './normalize.ts';

export interface IngestScope {
  brandId: number;
  targetId: string | null;
  /** Null keeps every item (reviews of the brand's own app); otherwise only keyword matches are kept. */
  matcher: KeywordMatcher | null;
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
  for (const draft of drafts) {
    const title = draft.title === null ? null : normalizeText(draft.title) || null;
    const text = normalizeText(draft.text);
    if (scope.matcher && !draft.onOwnPage && scope.matcher.find(`${title ?? ''}\n${text}`).length === 0) {
      unmatched++;
      continue;
    }
    const key = `${draft.source}\u0000${draft.externalId}`;
    if (byKey.has(key)) repeated++;
    const replyText = draft.reply ? normalizeText(draft.reply.text) : null;
    const lang = detectLanguage(`${title ?? ''} ${text}`);
    const sentiment = scoreSentiment({ text: title ? `${title}. ${text}` : text, lang, rating: draft.rating });
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
      // A mention the brand has already answered (2GIS official answer, store developer reply) needs no ticket.
      actionable: draft.reply === null && isActionable({ label: sentiment.label, rating: draft.rating }),
      metrics: JSON.stringify(draft.metrics),
      reply: JSON.stringify(draft.reply ? { text: replyText, at: draft.reply.at } : null),
      parent_external_id: draft.parentExternalId,
      details: JSON.stringify(draft.details ?? {}),
    });
  }
  return { rows: [...byKey.values()], unmatched, repeated };
}

/** What changes here is what makes a re-crawled item an update: the text, the rating, the brand's reply. */
export function hashContent(title: string | null, text: string, rating: number | null, reply: string | null): string {
  return createHash('sha256').update(JSON.stringify([title, text, rating, reply])).digest('base64url');
}

export interface StoreResult {
  stored: StoredMentionRow[];
  new: number;
  updated: number;
  duplicates: number;
}

export async function storeMentions(db: Db, batch: PreparedBatch): Promise<StoreResult> {
  const stored = await upsertMentions(db, batch.rows);
  const inserted = stored.filter((r) => r.inserted).length;
  return {
    stored,
    new: inserted,
    updated: stored.length - inserted,
    duplicates: batch.rows.length - stored.length + batch.repeated,
  };
}
