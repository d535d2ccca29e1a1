import { createRequire } from 'node:module';
import type { Lang } from './language.ts';

export type SentimentLabel = 'negative' | 'neutral' | 'positive' | 'unscored';

export type SentimentResult = {
  label: SentimentLabel;
  /** -1..1, null when unscored */
  score: number | null;
  model: string;
};

export type SentimentInput = { text: string; lang: Lang; rating: number | null };

type Wink = ReturnType<typeof import('wink-nlp').default>;

// Tuned for macro-F1 on the English dev split (see sentiment/train/measure-v0.ts).
export const WINK_NEGATIVE_BELOW = -0.01;
export const WINK_POSITIVE_ABOVE = 0.09;

const require = createRequire(import.meta.url);
let wink: Wink | undefined;

function loadWink(): Wink {
  if (wink === undefined) {
    const winkNLP = require('wink-nlp') as typeof import('wink-nlp').default;
    const model = require('wink-eng-lite-web-model') as typeof import('wink-eng-lite-web-model').default;
    wink = winkNLP(model, ['sbd', 'negation', 'sentiment']);
  }
  return wink;
}

export function scoreSentiment(input: SentimentInput): SentimentResult {
  const { rating } = input;
  if (rating !== null && Number.isFinite(rating) && rating >= 1 && rating <= 5) {
    return scoreRating(rating);
  }
  if (input.lang === 'en') return scoreEnglish(input.text);
  return { label: 'unscored', score: null, model: 'none' };
}

export function scoreEnglishText(text: string): number {
  const nlp = loadWink();
  return nlp.readDoc(text).out(nlp.its.sentiment) as number;
}

export function labelWinkScore(
  score: number,
  negativeBelow = WINK_NEGATIVE_BELOW,
  positiveAbove = WINK_POSITIVE_ABOVE,
): 'negative' | 'neutral' | 'positive' {
  if (score < negativeBelow) return 'negative';
  if (score > positiveAbove) return 'positive';
  return 'neutral';
}

export function isActionable(s: { label: SentimentLabel; rating: number | null }): boolean {
  return s.label === 'negative' || (s.rating !== null && s.rating <= 2);
}

function scoreRating(rating: number): SentimentResult {
  const label = rating < 3 ? 'negative' : rating > 3 ? 'positive' : 'neutral';
  return { label, score: (rating - 3) / 2, model: 'rating-v0' };
}

function scoreEnglish(text: string): SentimentResult {
  const score = scoreEnglishText(text);
  return { label: labelWinkScore(score), score, model: 'wink-en' };
}
