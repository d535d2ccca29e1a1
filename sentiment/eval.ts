import type { LabelledText } from './labelled.ts';
import type { TextKind } from './types.ts';

/** Scores of predicted labels against gold labels; macro-F1 over the classes present in the gold labels. */
export interface EvalScore {
  n: number;
  macro_f1: number;
  accuracy: number;
  per_class: Record<string, { precision: number; recall: number; f1: number; support: number }>;
  /** Gold label → predicted label → how many: neutral read as negative is what opens a needless ticket. */
  confusion: Record<string, Record<string, number>>;
}

export function scoreLabels(gold: readonly string[], predicted: readonly string[]): EvalScore {
  if (gold.length !== predicted.length) throw new Error(`${gold.length} gold labels but ${predicted.length} predictions`);
  const classes = [...new Set(gold)].sort();
  const per_class: EvalScore['per_class'] = {};
  let correct = 0;
  for (let i = 0; i < gold.length; i++) if (gold[i] === predicted[i]) correct++;
  const confusion: EvalScore['confusion'] = {};
  for (let i = 0; i < gold.length; i++) {
    const row = (confusion[gold[i]!] ??= {});
    row[predicted[i]!] = (row[predicted[i]!] ?? 0) + 1;
  }
  let f1Sum = 0;
  for (const label of classes) {
    let tp = 0, fp = 0, fn = 0;
    for (let i = 0; i < gold.length; i++) {
      const g = gold[i] === label, p = predicted[i] === label;
      if (g && p) tp++;
      else if (p) fp++;
      else if (g) fn++;
    }
    const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
    const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    per_class[label] = { precision: round(precision), recall: round(recall), f1: round(f1), support: tp + fn };
    f1Sum += f1;
  }
  return {
    n: gold.length,
    macro_f1: round(classes.length === 0 ? 0 : f1Sum / classes.length),
    accuracy: round(gold.length === 0 ? 0 : correct / gold.length),
    per_class,
    confusion: Object.fromEntries(classes.map((label) => [label, confusion[label]!])),
  };
}

function round(x: number): number {
  return Math.round(x * 10000) / 10000;
}

/** How a labelled row is read: its text as the given kind, with its stars when `rating` is not null. */
export type Classify = (text: string, kind: TextKind, rating: number | null) => string;

/**
 * `post` and `review`: the text alone, read as that kind; `review_with_stars`: reviews that came with stars,
 * read with them as production reads a store or map review (the stars decide unless the text confidently says
 * the opposite, which makes it `mixed`).
 */
export type KindScores = Partial<Record<TextKind | 'review_with_stars', EvalScore>>;

/**
 * Classifies every row by its text alone, as its kind (a row without one is a post), and scores it, with the
 * same per kind; `texts_per_s` times that first pass alone, on this one thread.
 */
export function evaluateRows(rows: readonly LabelledText[], classify: Classify): EvalScore & { texts_per_s: number; by_kind: KindScores } {
  const started = process.hrtime.bigint();
  const predicted = rows.map((row) => classify(row.text, row.kind ?? 'post', null));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const score = scoreLabels(rows.map((row) => row.label), predicted);
  const by_kind: KindScores = {};
  const subset = (keep: (row: LabelledText) => boolean, label: (row: LabelledText, i: number) => string) => {
    const picked = rows.flatMap((row, i) => (keep(row) ? [[row.label, label(row, i)] as const] : []));
    return picked.length === 0 ? undefined : scoreLabels(picked.map((p) => p[0]), picked.map((p) => p[1]));
  };
  const kinds = new Set(rows.map((row) => row.kind ?? 'post'));
  // One kind only: its scores are the file's, not repeated.
  if (kinds.size > 1) {
    for (const kind of kinds) by_kind[kind] = subset((row) => (row.kind ?? 'post') === kind, (_, i) => predicted[i]!);
  }
  const starred = subset((row) => row.rating !== undefined, (row) => classify(row.text, 'review', row.rating!));
  if (starred !== undefined) by_kind.review_with_stars = starred;
  return { ...score, by_kind, texts_per_s: Math.round(rows.length / Math.max(seconds, 1e-9)) };
}
