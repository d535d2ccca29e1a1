import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { extractFeatures } from '../features.ts';
import type { Lang } from '../language.ts';
import type { LinearModel } from '../model.ts';
import { TEXT_CLASSES, type TextClass } from '../types.ts';
import type { LabelledText } from '../labelled.ts';
import type { FitConfig } from './recipe.ts';
import { trainSoftmax, type Example } from './sgd.ts';

export const TRAIN_SEED = 20261201;

/** Where the labelled data lives: EARSHOT_SENTIMENT_DATA, else the shared datasets beside the checkout. */
export function sentimentDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.EARSHOT_SENTIMENT_DATA ?? fileURLToPath(new URL('../../../shared/datasets/sentiment/', import.meta.url));
  if (!existsSync(dir)) {
    throw new Error(`sentiment data not found at ${dir}: set EARSHOT_SENTIMENT_DATA to the folder with <lang>-train.jsonl and dev-<lang>.jsonl`);
  }
  return dir;
}

/** Labelled rows that each count `weight` times. */
export interface TrainingSet {
  rows: readonly LabelledText[];
  weight: number;
}

/** Rows in order, each weighted by its set and by its class's (weighted) size to the power `balance`. */
export function toExamples(sets: readonly TrainingSet[], lang: Lang, bits: number, classes: readonly TextClass[], balance: number): Example[] {
  const counts = classes.map(() => 0);
  let total = 0;
  for (const { rows, weight } of sets) {
    for (const row of rows) {
      const label = classes.indexOf(row.label);
      if (label < 0) continue;
      counts[label]! += weight;
      total += weight;
    }
  }
  return sets.flatMap(({ rows, weight }) => rows.flatMap((row) => {
    const label = classes.indexOf(row.label);
    if (label < 0) return [];
    const classWeight = Math.pow(total / (classes.length * counts[label]!), balance);
    return [{ features: extractFeatures(row.text, lang, bits), label, weight: weight * classWeight }];
  }));
}

/** Trains one language's model; the same sets in the same order give the same weights. */
export function fitTextModel(sets: readonly TrainingSet[], lang: Lang, config: FitConfig, name: string): LinearModel {
  const classes = TEXT_CLASSES.filter((c) => sets.some((s) => s.rows.some((r) => r.label === c)));
  const examples = toExamples(sets, lang, config.bits, classes, config.balance);
  const weights = trainSoftmax(examples, {
    classes: classes.length, bits: config.bits, epochs: config.epochs, learningRate: config.learningRate, l2: 0, seed: TRAIN_SEED,
  });
  return { name, lang, bits: config.bits, classes, weights };
}
