import { describe, expect, it } from 'vitest';
import { predictText } from '../analyze.ts';
import { scoreLabels } from '../eval.ts';
import type { LabelledText } from '../labelled.ts';
import { serializeModel } from '../model.ts';
import { fitTextModel } from './fit.ts';
import { trainSoftmax } from './sgd.ts';

// Our own small set: enough to see the trainer learn, and to check it is deterministic.
const rows: LabelledText[] = [
  ...['Отличный сервис, спасибо', 'Очень довольна, всё быстро', 'Прекрасная доставка, рекомендую', 'Лучший магазин, спасибо большое', 'Вежливый курьер, всё отлично'].map((text) => ({ text, label: 'positive' as const, line: 0 })),
  ...['Ужасный сервис, верните деньги', 'Курьер опоздал, кошмар', 'Деньги списали дважды, ужас', 'Поддержка не отвечает, отвратительно', 'Приложение не работает, ужасно'].map((text) => ({ text, label: 'negative' as const, line: 0 })),
  ...['Магазин работает с девяти', 'Открылось новое отделение', 'Завтра будет акция', 'Курьер приедет в среду', 'Приложение обновилось вчера'].map((text) => ({ text, label: 'neutral' as const, line: 0 })),
];

describe('training', () => {
  it('learns its training set', () => {
    const model = fitTextModel(rows, 'ru', 'toy-v0');
    const score = scoreLabels(rows.map((r) => r.label), rows.map((r) => predictText(r.text, model).label));
    expect(score.accuracy).toBe(1);
  });

  it('is deterministic: same rows, same weights, byte for byte', () => {
    const a = serializeModel(fitTextModel(rows, 'ru', 'toy-v0'));
    const b = serializeModel(fitTextModel(rows, 'ru', 'toy-v0'));
    expect(a.equals(b)).toBe(true);
  });

  it('keeps only the classes present in the data', () => {
    expect(fitTextModel(rows.filter((r) => r.label !== 'neutral'), 'uz', 'toy-v0').classes).toEqual(['negative', 'positive']);
  });

  it('pulls toward the starting weights with l2', () => {
    const example = { features: { indices: Uint32Array.of(1, 2), value: Math.SQRT1_2 }, label: 0, weight: 1 };
    const start = new Float32Array(8).fill(0.5);
    const free = trainSoftmax([example], { classes: 2, bits: 2, epochs: 50, learningRate: 0.5, l2: 0, seed: 1, start });
    const held = trainSoftmax([example], { classes: 2, bits: 2, epochs: 50, learningRate: 0.5, l2: 1, seed: 1, start });
    expect(Math.abs(held[2]! - 0.5)).toBeLessThan(Math.abs(free[2]! - 0.5));
    // Untouched buckets keep their start.
    expect(free[0]).toBe(0.5);
  });
});
