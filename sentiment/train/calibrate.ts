import { scoreLabels } from '../eval.ts';
import { extractFeatures } from '../features.ts';
import type { LabelledText } from '../labelled.ts';
import { predictProbabilities, type LinearModel, type ModelOffsets } from '../model.ts';
import { TEXT_KINDS, type TextKind } from '../types.ts';

// Offsets are searched on a grid: the first class stays at 0, the others from -3 to 3 in steps of 0.1.
const STEP = 0.1;
const REACH = 30;
/** A kind gets offsets of its own only with this many calibration rows of every class the model has. */
const MIN_PER_CLASS = 20;

export interface Calibration {
  offsets: ModelOffsets;
  /** Per kind: fitted on its own rows, or `shared` (fitted on all rows: too few of that kind, or a class missing). */
  fittedOn: Record<TextKind, 'own' | 'shared'>;
  /**
   * Macro-F1 on the calibration rows with offsets fitted on the other half of them (rows split by parity, both
   * ways): what the offsets are worth on texts they were not fitted on.
   */
  crossFittedMacroF1: number;
}

/** The model's logits for each row, without offsets. */
function logitsOf(model: LinearModel, rows: readonly LabelledText[]): Float64Array[] {
  const plain: LinearModel = { ...model, offsets: undefined };
  // Log-probabilities are logits up to a constant per row, which no offset comparison sees.
  return rows.map((row) => predictProbabilities(plain, extractFeatures(row.text, model.lang, model.bits)).map(Math.log));
}

function decide(logits: Float64Array, offsets: readonly number[]): number {
  let best = 0;
  for (let c = 1; c < logits.length; c++) if (logits[c]! + offsets[c]! > logits[best]! + offsets[best]!) best = c;
  return best;
}

/** The offsets (on the grid) with the best macro-F1 on these rows; of equals, the smallest. */
function bestOffsets(model: LinearModel, logits: readonly Float64Array[], gold: readonly string[]): number[] {
  const k = model.classes.length;
  const score = (offsets: readonly number[]) =>
    scoreLabels(gold, logits.map((l) => model.classes[decide(l, offsets)]!)).macro_f1;
  let best = { offsets: new Array<number>(k).fill(0), f1: -1, size: 0 };
  // Every point of the grid for up to three classes: (2·30+1)² = 3,721 candidates.
  const grid = (dims: number): number[][] =>
    dims === 0 ? [[]] : grid(dims - 1).flatMap((rest) => Array.from({ length: 2 * REACH + 1 }, (_, i) => [...rest, i - REACH]));
  for (const steps of grid(k - 1)) {
    const offsets = [0, ...steps.map((s) => Math.round(s * STEP * 10) / 10)];
    const f1 = score(offsets);
    const size = steps.reduce((sum, s) => sum + Math.abs(s), 0);
    if (f1 > best.f1 + 1e-9 || (Math.abs(f1 - best.f1) <= 1e-9 && size < best.size)) best = { offsets, f1, size };
  }
  return best.offsets;
}

/** Decision offsets per kind of text fitted for the best macro-F1 on rows that look like production. */
export function calibrate(model: LinearModel, rows: readonly LabelledText[]): Calibration {
  const logits = logitsOf(model, rows);
  const gold = rows.map((r) => r.label);
  const pick = (keep: (i: number) => boolean) => {
    const at = rows.flatMap((_, i) => (keep(i) ? [i] : []));
    return { logits: at.map((i) => logits[i]!), gold: at.map((i) => gold[i]!) };
  };
  const shared = bestOffsets(model, logits, gold);
  const offsets = {} as Record<TextKind, number[]>;
  const fittedOn = {} as Record<TextKind, 'own' | 'shared'>;
  for (const kind of TEXT_KINDS) {
    const own = pick((i) => (rows[i]!.kind ?? 'post') === kind);
    const enough = model.classes.every((c) => own.gold.filter((g) => g === c).length >= MIN_PER_CLASS);
    offsets[kind] = enough ? bestOffsets(model, own.logits, own.gold) : shared;
    fittedOn[kind] = enough ? 'own' : 'shared';
  }
  const predicted = new Array<string>(rows.length);
  for (const half of [0, 1]) {
    const fit = pick((i) => i % 2 !== half);
    const fitted = bestOffsets(model, fit.logits, fit.gold);
    for (let i = half; i < rows.length; i += 2) predicted[i] = model.classes[decide(logits[i]!, fitted)]!;
  }
  return { offsets, fittedOn, crossFittedMacroF1: scoreLabels(gold, predicted).macro_f1 };
}
