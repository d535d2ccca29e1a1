import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { extractFeatures, preloadWink } from './features.ts';
import { detectLanguage, type Lang } from './language.ts';
import { deserializeModel, predictProbabilities, type LinearModel } from './model.ts';
import { LOW_CONFIDENCE_BELOW, type SentimentLabel, type SentimentResult, type TextClass, type TextKind } from './types.ts';

export const MODEL_LANGS = ['ru', 'kk', 'uz', 'en'] as const satisfies readonly Lang[];
export type ModelLang = (typeof MODEL_LANGS)[number];
export const MODELS_DIR = fileURLToPath(new URL('./models/', import.meta.url));

/** The text model per language; a brand's adapted models replace the base ones for its mentions. */
export type SentimentModels = ReadonlyMap<Lang, LinearModel>;

let baseModels: Map<Lang, LinearModel> | undefined;

/** The shipped models, read once per process (about 1 MB of gzip each, 3 MB in memory). */
export function loadBaseModels(): SentimentModels {
  if (baseModels === undefined) {
    baseModels = new Map();
    for (const lang of MODEL_LANGS) {
      const path = `${MODELS_DIR}${lang}.bin`;
      if (!existsSync(path)) throw new Error(`${path} is missing: run npm run train:sentiment`);
      baseModels.set(lang, deserializeModel(readFileSync(path), path));
    }
    // The English features need wink-nlp's model as well.
    preloadWink();
  }
  return baseModels;
}

export interface TextPrediction {
  label: TextClass;
  /** P(positive) - P(negative), -1..1. */
  score: number;
  confidence: number;
  probabilities: Partial<Record<TextClass, number>>;
}

export function predictText(text: string, model: LinearModel, kind: TextKind = 'post'): TextPrediction {
  const p = predictProbabilities(model, extractFeatures(text, model.lang, model.bits), kind);
  const probabilities: Partial<Record<TextClass, number>> = {};
  let best = 0;
  for (let c = 0; c < model.classes.length; c++) {
    probabilities[model.classes[c]!] = p[c]!;
    if (p[c]! > p[best]!) best = c;
  }
  return {
    label: model.classes[best]!,
    score: (probabilities.positive ?? 0) - (probabilities.negative ?? 0),
    confidence: p[best]!,
    probabilities,
  };
}

// A review's stars say what the author meant more reliably than our reading of a short text, unless the
// text is confidently the opposite: then the mention is `mixed` and says why (or, at three stars, takes the
// text's label).
const TEXT_OVERRULES_AT = 0.8;
const RATING_WEIGHT = 0.6;

export interface SentimentInput {
  text: string;
  /** Detected when absent. */
  lang?: Lang;
  /** 1..5 stars for reviews. */
  rating?: number | null;
  /** Default: `review` when it has stars, else `post`. */
  kind?: TextKind;
}

export function analyzeSentiment(input: SentimentInput, models: SentimentModels = loadBaseModels()): SentimentResult {
  const lang = input.lang ?? detectLanguage(input.text);
  const model = models.get(lang);
  const rating = validRating(input.rating);
  const kind = input.kind ?? (rating === null ? 'post' : 'review');
  const text = model === undefined || input.text.trim() === '' ? null : predictText(input.text, model, kind);
  if (rating === null) {
    if (text === null || model === undefined) return { label: 'unscored', score: null, confidence: 0, lowConfidence: true, lang, model: 'none' };
    return {
      label: text.label, score: round(text.score), confidence: round(text.confidence),
      lowConfidence: text.confidence < LOW_CONFIDENCE_BELOW, lang, model: model.name,
    };
  }
  return blendRating(rating, text, lang, model);
}

function blendRating(rating: number, text: TextPrediction | null, lang: Lang, model: LinearModel | undefined): SentimentResult {
  const ratingLabel: SentimentLabel = rating <= 2 ? 'negative' : rating >= 4 ? 'positive' : 'neutral';
  const ratingScore = (rating - 3) / 2;
  // One or five stars are unambiguous; two, three and four leave room for the text.
  const ratingConfidence = rating === 1 || rating === 5 ? 0.9 : 0.7;
  if (text === null || model === undefined) {
    return { label: ratingLabel, score: ratingScore, confidence: ratingConfidence, lowConfidence: false, lang, model: 'rating' };
  }
  const name = `rating+${model.name}`;
  const score = round(RATING_WEIGHT * ratingScore + (1 - RATING_WEIGHT) * text.score);
  const opposite =
    (ratingLabel === 'negative' && text.label === 'positive') || (ratingLabel === 'positive' && text.label === 'negative');
  if (opposite && text.confidence >= TEXT_OVERRULES_AT) {
    return {
      label: 'mixed', score, confidence: round(text.confidence), lowConfidence: false, lang, model: name,
      reason: `${rating}★ but the text reads ${text.label} (${text.confidence.toFixed(2)})`,
    };
  }
  if (ratingLabel === 'neutral') {
    // Three stars say neutral as firmly as one star says negative: the text overrules them only when it is
    // as sure as it must be to make five stars `mixed`. A text model calibrated for all reviews, most of them
    // praise or complaint, would otherwise read most three-star reviews as one or the other.
    if (text.label !== 'neutral' && text.confidence >= TEXT_OVERRULES_AT) {
      return { label: text.label, score, confidence: round(text.confidence), lowConfidence: false, lang, model: name };
    }
    const confidence = text.label === 'neutral' ? Math.max(ratingConfidence, text.confidence) : ratingConfidence;
    return { label: 'neutral', score, confidence: round(confidence), lowConfidence: false, lang, model: name };
  }
  const confidence = text.label === ratingLabel ? Math.max(ratingConfidence, text.confidence) : ratingConfidence;
  return { label: ratingLabel, score, confidence: round(confidence), lowConfidence: false, lang, model: name };
}

function validRating(rating: number | null | undefined): number | null {
  return rating !== null && rating !== undefined && Number.isFinite(rating) && rating >= 1 && rating <= 5
    ? Math.round(rating)
    : null;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
