import type { LabelledText } from '../labelled.ts';
import type { LinearModel } from '../model.ts';
import { toExamples, TRAIN_SEED } from './fit.ts';
import { trainSoftmax } from './sgd.ts';

// A brand's corrections are few and precious: each counts several times, and the weights are pulled back
// toward the shipped model so a handful of examples cannot unlearn the language.
const CORRECTION_WEIGHT = 4;
const ADAPT_EPOCHS = 8;
const ADAPT_LEARNING_RATE = 0.05;
const PULL_TO_BASE = 0.02;

/** The base model fine-tuned on a brand's corrections; rows whose label the model lacks are skipped. */
export function adaptModel(base: LinearModel, rows: readonly LabelledText[], name: string): LinearModel {
  const usable = rows.filter((row) => base.classes.includes(row.label));
  const examples = toExamples([{ rows: usable, weight: CORRECTION_WEIGHT }], base.lang, base.bits, base.classes, 0);
  const weights = trainSoftmax(examples, {
    classes: base.classes.length, bits: base.bits, epochs: ADAPT_EPOCHS, learningRate: ADAPT_LEARNING_RATE,
    l2: PULL_TO_BASE, seed: TRAIN_SEED, start: base.weights,
  });
  return { ...base, name, weights };
}
