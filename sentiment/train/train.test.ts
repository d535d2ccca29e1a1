import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MODEL_LANGS, MODELS_DIR, predictText } from '../analyze.ts';
import { scoreLabels } from '../eval.ts';
import type { LabelledText } from '../labelled.ts';
import { deserializeModel, serializeModel } from '../model.ts';
import { calibrate } from './calibrate.ts';
import { fitTextModel, toExamples } from './fit.ts';
import { RECIPES } from './recipe.ts';
import { trainSoftmax } from './sgd.ts';

// Our own small set: enough to see the trainer learn, and to check it is deterministic.
const rows: LabelledText[] = [
  ...['Отличный сервис, спасибо', 'Очень довольна, всё быстро', 'Прекрасная доставка, рекомендую', 'Лучший магазин, спасибо большое', 'Вежливый курьер, всё отлично'].map((text) => ({ text, label: 'positive' as const, line: 0 })),
  ...['Ужасный сервис, верните деньги', 'Курьер опоздал, кошмар', 'Деньги списали дважды, ужас', 'Поддержка не отвечает, отвратительно', 'Приложение не работает, ужасно'].map((text) => ({ text, label: 'negative' as const, line: 0 })),
  ...['Магазин работает с девяти', 'Открылось новое отделение', 'Завтра будет акция', 'Курьер приедет в среду', 'Приложение обновилось вчера'].map((text) => ({ text, label: 'neutral' as const, line: 0 })),
];

const CONFIG = RECIPES.ru.fit;

describe('training', () => {
  it('learns its training set', () => {
    const model = fitTextModel([{ rows, weight: 1 }], 'ru', CONFIG, 'toy-v0');
    const score = scoreLabels(rows.map((r) => r.label), rows.map((r) => predictText(r.text, model).label));
    expect(score.accuracy).toBe(1);
  });

  it('is deterministic: same rows, same weights, byte for byte', () => {
    const a = serializeModel(fitTextModel([{ rows, weight: 1 }], 'ru', CONFIG, 'toy-v0'));
    const b = serializeModel(fitTextModel([{ rows, weight: 1 }], 'ru', CONFIG, 'toy-v0'));
    expect(a.equals(b)).toBe(true);
  });

  it('keeps only the classes present in the data', () => {
    expect(fitTextModel([{ rows: rows.filter((r) => r.label !== 'neutral'), weight: 1 }], 'uz', CONFIG, 'toy-v0').classes).toEqual(['negative', 'positive']);
  });

  it('counts each set\'s rows by its weight, in class sizes too', () => {
    const positives = rows.filter((r) => r.label === 'positive');
    const negatives = rows.filter((r) => r.label === 'negative');
    const examples = toExamples([{ rows: positives, weight: 3 }, { rows: negatives, weight: 1 }], 'ru', 10, ['negative', 'positive'], 1);
    // Balanced over 15 + 5 weighted rows: positives 3 × 20/(2·15) = 2, negatives 1 × 20/(2·5) = 2.
    expect(examples.map((e) => e.weight)).toEqual(new Array(10).fill(2));
    const unbalanced = toExamples([{ rows: positives, weight: 3 }, { rows: negatives, weight: 1 }], 'ru', 10, ['negative', 'positive'], 0);
    expect(unbalanced.map((e) => e.weight)).toEqual([3, 3, 3, 3, 3, 1, 1, 1, 1, 1]);
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

describe('calibration', () => {
  const model = fitTextModel([{ rows, weight: 1 }], 'ru', CONFIG, 'toy-v0');
  // A production-like set where most texts are neutral: new texts the model has not seen, more neutral than not.
  const production: LabelledText[] = [
    ...['Курьер приедет завтра', 'Отделение работает до восьми', 'Приложение обновится в пятницу', 'Магазин открылся в среду',
      'Акция начнётся завтра', 'Доставка будет в четверг', 'Отделение переехало', 'Курьер звонил вчера'].map((text) => ({ text, label: 'neutral' as const, line: 0, kind: 'post' as const })),
    ...['Спасибо, всё отлично', 'Прекрасный сервис'].map((text) => ({ text, label: 'positive' as const, line: 0, kind: 'post' as const })),
    ...['Ужас, верните деньги', 'Кошмарный сервис'].map((text) => ({ text, label: 'negative' as const, line: 0, kind: 'post' as const })),
  ];

  it('fits offsets that score no worse than none on the rows it was fitted on, and keeps the first class at 0', () => {
    const fit = calibrate(model, production);
    const before = scoreLabels(production.map((r) => r.label), production.map((r) => predictText(r.text, model).label)).macro_f1;
    const calibrated = { ...model, offsets: fit.offsets };
    const after = scoreLabels(production.map((r) => r.label), production.map((r) => predictText(r.text, calibrated, 'post').label)).macro_f1;
    expect(after).toBeGreaterThanOrEqual(before);
    expect(fit.offsets.post[0]).toBe(0);
    // Too few rows of each class for a kind of its own: both kinds take the offsets fitted on every row.
    expect(fit.fittedOn).toEqual({ post: 'shared', review: 'shared' });
    expect(fit.offsets.review).toEqual(fit.offsets.post);
    expect(fit.crossFittedMacroF1).toBeGreaterThanOrEqual(0);
    expect(fit.crossFittedMacroF1).toBeLessThanOrEqual(1);
  });

  it('is deterministic', () => {
    expect(calibrate(model, production)).toEqual(calibrate(model, production));
  });
});

describe('shipped models', () => {
  it('are the ones MANIFEST.json describes, named by their recipe', () => {
    const manifest = JSON.parse(readFileSync(`${MODELS_DIR}MANIFEST.json`, 'utf8')) as Record<string, any>;
    for (const lang of MODEL_LANGS) {
      const bytes = readFileSync(`${MODELS_DIR}${lang}.bin`);
      const entry = manifest[lang];
      expect(entry.weights).toEqual({ bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
      expect(entry.model).toBe(`${lang}-${RECIPES[lang].version}`);
      expect(deserializeModel(bytes, lang).name).toBe(entry.model);
      expect(entry.train.map((t: { file: string; weight: number }) => ({ file: t.file, weight: t.weight }))).toEqual(RECIPES[lang].train);
      expect(entry.dev.map((d: { file: string }) => d.file)).toEqual(RECIPES[lang].dev);
      // A calibrated model carries the offsets the manifest says were fitted.
      expect(deserializeModel(bytes, lang).offsets).toEqual(entry.calibration?.offsets);
    }
  });
});
