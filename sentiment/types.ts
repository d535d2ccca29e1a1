import type { Lang } from './language.ts';

/** `mixed`: the text and the star rating disagree strongly, or the text is clearly both. */
export const SENTIMENT_LABELS = ['negative', 'neutral', 'positive', 'mixed', 'unscored'] as const;
export type SentimentLabel = (typeof SENTIMENT_LABELS)[number];

/** Below this confidence a label is a weak guess: shown as such, never turned neutral. */
export const LOW_CONFIDENCE_BELOW = 0.6;

/** The three classes the text models predict. */
export type TextClass = 'negative' | 'neutral' | 'positive';
export const TEXT_CLASSES: readonly TextClass[] = ['negative', 'neutral', 'positive'];

/**
 * What kind of text a model reads: a `post` (a tweet, a channel post, a comment, a news item: often neutral)
 * or a `review` of the brand's own app, branch or product (mostly praise or complaint). A model may carry a
 * calibration per kind.
 */
export const TEXT_KINDS = ['post', 'review'] as const;
export type TextKind = (typeof TEXT_KINDS)[number];

export interface SentimentResult {
  label: SentimentLabel;
  /** -1..1; null when unscored. */
  score: number | null;
  /** 0..1: the probability the model gives its label. */
  confidence: number;
  /** True when confidence is below the model's threshold: the label is a weak guess, shown as such. */
  lowConfidence: boolean;
  lang: Lang;
  /** e.g. `ru-v1`, `ru-v1+brand3.2`, `rating+ru-v1`, `human`. */
  model: string;
  /** Why the label is `mixed` or why the rating was overruled; absent otherwise. */
  reason?: string;
}

/** Why a mention needs a reply from the brand. */
export const ACTION_REASONS = [
  'complaint', 'question', 'legal_threat', 'safety', 'fraud_claim', 'churn_threat', 'praise',
] as const;
export type ActionReason = (typeof ACTION_REASONS)[number];

/** Why a mention needs no reply even if it is negative. */
export const ACTION_EXCLUSIONS = ['own_post', 'answered', 'news', 'ad', 'spam'] as const;
export type ActionExclusion = (typeof ACTION_EXCLUSIONS)[number];

export interface Actionability {
  actionable: boolean;
  /** Every reason found, strongest first; empty when none. */
  reasons: ActionReason[];
  /** Set when an exclusion overrides the reasons. */
  excludedBy: ActionExclusion | null;
}
