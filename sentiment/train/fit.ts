import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { extractFeatures } from '../features.ts';
import type { Lang } from '../language.ts';
import type { LinearModel } from '../model.ts';
import { TEXT_CLASSES, type TextClass } from '../types.ts';
import type { LabelledText } from '../labelled.ts';
import { trainSoftmax, type Example } from './sgd.ts';

export interface FitConfig {
  bits: number;
  epochs: number;
  learningRate: number;
  /** Class weights are (balanced weight)^balance: 0 ignores class sizes, 1 weighs every class equally. */
  balance: number;
}

// Chosen on a 10% hold-out of each train file (by text hash), never on the dev split. Uzbek data has no
// neutral class, so its model has two. 2^18 buckets: a 2^20 table scored no better on the hold-out.
export const FIT_CONFIG: Record<'ru' | 'kk' | 'uz' | 'en', FitConfig> = {
  ru: { bits: 18, epochs: 4, learningRate: 0.2, balance: 0.5 },
  kk: { bits: 18, epochs: 6, learningRate: 0.05, balance: 0.75 },
  uz: { bits: 18, epochs: 6, learningRate: 0.05, balance: 0.75 },
  en: { bits: 18, epochs: 10, learningRate: 0.05, balance: 0.75 },
};
export const TRAIN_SEED = 20261201;

/** Where the labelled data lives: EARSHOT_SENTIMENT_DATA, else the shared datasets beside the checkout. */
export function sentimentDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.EARSHOT_SENTIMENT_DATA ?? fileURLToPath(new URL('../../../shared/datasets/sentiment/', import.meta.url));
  if (!existsSync(dir)) {
    throw new Error(`sentiment data not found at ${dir}: set EARSHOT_SENTIMENT_DATA to the folder with <lang>-train.jsonl and dev-<lang>.jsonl`);
  }
  return dir;
}

export function toExamples(rows: readonly LabelledText[], lang: Lang, bits: number, classes: readonly TextClass[], balance: number): Example[] {
  const counts = classes.map((c) => rows.filter((r) => r.label === c).length);
  return rows.flatMap((row) => {
    const label = classes.indexOf(row.label);
    if (label < 0) return [];
    const weight = Math.pow(rows.length / (classes.length * counts[label]!), balance);
    return [{ features: extractFeatures(row.text, lang, bits), label, weight }];
  });
}

/** Trains one language's model from its labelled texts; same rows in the same order give the same weights. */
export function fitTextModel(rows: readonly LabelledText[], lang: keyof typeof FIT_CONFIG, name: string): LinearModel {
  const config = FIT_CONFIG[lang];
  const classes = TEXT_CLASSES.filter((c) => rows.some((r) => r.label === c));
  const examples = toExamples(rows, lang, config.bits, classes, config.balance);
  const weights = trainSoftmax(examples, {
    classes: classes.length, bits: config.bits, epochs: config.epochs, learningRate: config.learningRate, l2: 0, seed: TRAIN_SEED,
  });
  return { name, lang, bits: config.bits, classes, weights };
}
