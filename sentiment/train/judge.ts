import { createHash } from 'node:crypto';
import { predictText } from '../analyze.ts';
import { scoreLabels } from '../eval.ts';
import type { LabelledText } from '../labelled.ts';
import type { LinearModel } from '../model.ts';

// About one correction in five is held out to judge a candidate model; it is never trained on.
export const HELD_OUT_PERCENT = 20;
// Fewer held-out corrections than this say nothing about a candidate either way.
export const MIN_HELD_OUT = 5;
// Fewer corrections than this to learn from teach the model noise.
export const MIN_TRAINING = 5;

/**
 * Whether the row with this key (a mention id) is held out. A hash of the key alone, not its rank among the
 * others: a mention stays on its side as corrections accumulate, so a brand model live now was never trained
 * on the corrections its successor is judged on.
 */
export function isHeldOut(key: string): boolean {
  const digest = createHash('sha256').update(`earshot-held-out:${key}`).digest();
  return digest.readUInt32BE(0) % 100 < HELD_OUT_PERCENT;
}

export function splitHeldOut<T>(rows: readonly T[], keyOf: (row: T) => string): { train: T[]; heldOut: T[] } {
  const train: T[] = [];
  const heldOut: T[] = [];
  for (const row of rows) (isHeldOut(keyOf(row)) ? heldOut : train).push(row);
  return { train, heldOut };
}

export interface Measure {
  accuracy: number;
  macro_f1: number;
}

/** The live model and the candidate on the same texts. */
export interface Comparison {
  n: number;
  live: Measure;
  candidate: Measure;
}

export function measureModel(model: LinearModel, rows: readonly LabelledText[]): Measure {
  const score = scoreLabels(rows.map((r) => r.label), rows.map((r) => predictText(r.text, model).label));
  return { accuracy: score.accuracy, macro_f1: score.macro_f1 };
}

export function compareModels(live: LinearModel, candidate: LinearModel, rows: readonly LabelledText[]): Comparison {
  return { n: rows.length, live: measureModel(live, rows), candidate: measureModel(candidate, rows) };
}

export type Verdict =
  | { accept: true; judgedOn: 'held_out_corrections' | 'dev_file' | null; forced: boolean; reason?: string }
  | { accept: false; reason: string };

/**
 * The one rule for replacing the live model. A candidate worse than the live model on macro-F1 or accuracy, on
 * enough held-out corrections or on the given dev file, is refused. Otherwise it is accepted on the held-out
 * corrections when there are at least MIN_HELD_OUT, else on the dev file when one was given. With neither, the
 * live model stays unless `force`; `force` never overrides a measured loss.
 */
export function judgeCandidate(input: {
  liveModel: string;
  heldOut: Comparison;
  dev: (Comparison & { file: string }) | null;
  force: boolean;
}): Verdict {
  const { liveModel, heldOut, dev } = input;
  const enoughHeldOut = heldOut.n >= MIN_HELD_OUT;
  if (enoughHeldOut && isWorse(heldOut)) return { accept: false, reason: worse(liveModel, 'the held-out corrections', heldOut) };
  if (dev !== null && dev.n > 0 && isWorse(dev)) return { accept: false, reason: worse(liveModel, dev.file, dev) };
  if (enoughHeldOut) return { accept: true, judgedOn: 'held_out_corrections', forced: false };
  if (dev !== null && dev.n > 0) return { accept: true, judgedOn: 'dev_file', forced: false };
  const tooFew = `${heldOut.n} held-out corrections, ${MIN_HELD_OUT} needed to judge the candidate against ${liveModel}`;
  if (input.force) return { accept: true, judgedOn: null, forced: true, reason: `${tooFew}; saved anyway (--force)` };
  return {
    accept: false,
    reason: `${tooFew}: ${liveModel} stays. Correct more of this language's mentions, give --dev FILE.jsonl, or pass --force to save it unjudged`,
  };
}

function isWorse(c: Comparison): boolean {
  return c.candidate.macro_f1 < c.live.macro_f1 || c.candidate.accuracy < c.live.accuracy;
}

function worse(liveModel: string, on: string, c: Comparison): string {
  return `worse than ${liveModel} on ${on} (${c.n}): macro-F1 ${c.candidate.macro_f1} vs ${c.live.macro_f1}, ` +
    `accuracy ${c.candidate.accuracy} vs ${c.live.accuracy}; ${liveModel} stays`;
}
