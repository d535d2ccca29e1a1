/** Scores of predicted labels against gold labels; macro-F1 over the classes present in the gold labels. */
export interface EvalScore {
  n: number;
  macro_f1: number;
  accuracy: number;
  per_class: Record<string, { precision: number; recall: number; f1: number; support: number }>;
}

export function scoreLabels(gold: readonly string[], predicted: readonly string[]): EvalScore {
  if (gold.length !== predicted.length) throw new Error(`${gold.length} gold labels but ${predicted.length} predictions`);
  const classes = [...new Set(gold)].sort();
  const per_class: EvalScore['per_class'] = {};
  let correct = 0;
  for (let i = 0; i < gold.length; i++) if (gold[i] === predicted[i]) correct++;
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
  };
}

function round(x: number): number {
  return Math.round(x * 10000) / 10000;
}

/** Classifies every row and scores it; `texts_per_s` times the classification alone, on this one thread. */
export function evaluateRows(
  rows: readonly { text: string; label: string }[],
  classify: (text: string) => string,
): EvalScore & { texts_per_s: number } {
  const started = process.hrtime.bigint();
  const predicted = rows.map((row) => classify(row.text));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const score = scoreLabels(rows.map((row) => row.label), predicted);
  return { ...score, texts_per_s: Math.round(rows.length / Math.max(seconds, 1e-9)) };
}
