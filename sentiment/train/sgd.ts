import type { Features } from '../features.ts';

export interface Example {
  features: Features;
  /** Index into the model's classes. */
  label: number;
  weight: number;
}

export interface SgdOptions {
  classes: number;
  bits: number;
  epochs: number;
  learningRate: number;
  /** L2 pull toward `anchor` (or zero), applied to the weights an example touches. */
  l2: number;
  seed: number;
  /** Start from these weights (copied); also the anchor of the L2 pull when given. */
  start?: Float32Array;
}

/** Deterministic PRNG (mulberry32): same seed, same shuffles, same weights. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** Softmax regression by AdaGrad SGD over hashed features. */
export function trainSoftmax(examples: readonly Example[], options: SgdOptions): Float32Array {
  const k = options.classes;
  const size = (1 << options.bits) * k;
  const weights = options.start ? Float32Array.from(options.start) : new Float32Array(size);
  const anchor = options.start;
  const squares = new Float32Array(size).fill(1e-6);
  const random = prng(options.seed);
  const order = examples.map((_, i) => i);
  const logits = new Float64Array(k);
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    shuffle(order, random);
    for (const i of order) {
      const { features, label, weight } = examples[i]!;
      const { indices, value } = features;
      logits.fill(0);
      for (const index of indices) for (let c = 0; c < k; c++) logits[c]! += weights[index * k + c]!;
      let max = -Infinity;
      for (let c = 0; c < k; c++) max = Math.max(max, (logits[c]! *= value));
      let sum = 0;
      for (let c = 0; c < k; c++) sum += logits[c] = Math.exp(logits[c]! - max);
      for (let c = 0; c < k; c++) logits[c] = ((logits[c]! / sum) - (c === label ? 1 : 0)) * weight * value;
      for (const index of indices) {
        for (let c = 0; c < k; c++) {
          const at = index * k + c;
          const w = weights[at]!;
          const g = logits[c]! + options.l2 * (w - (anchor ? anchor[at]! : 0));
          squares[at]! += g * g;
          weights[at] = w - (options.learningRate * g) / Math.sqrt(squares[at]!);
        }
      }
    }
  }
  return weights;
}
