import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { extractFeatures } from './features.ts';
import { deserializeModel, predictProbabilities, serializeModel, type LinearModel } from './model.ts';
import { prng } from './train/sgd.ts';

function randomModel(bits: number, classes: LinearModel['classes']): LinearModel {
  const random = prng(7);
  const weights = Float32Array.from({ length: (1 << bits) * classes.length }, () => (random() - 0.5) * 4);
  return { name: 'test-v0', lang: 'ru', bits, classes, weights };
}

describe('model file', () => {
  it('round-trips header and weights to within int16 quantization', () => {
    const model = randomModel(10, ['negative', 'neutral', 'positive']);
    const back = deserializeModel(serializeModel(model), 'test');
    expect({ ...back, weights: null }).toEqual({ ...model, weights: null });
    const step = 2 / 32767;
    for (let i = 0; i < model.weights.length; i++) expect(Math.abs(back.weights[i]! - model.weights[i]!)).toBeLessThanOrEqual(step);
  });

  it('gives the same class probabilities after the round trip', () => {
    const model = randomModel(12, ['negative', 'positive']);
    const back = deserializeModel(serializeModel(model), 'test');
    const features = extractFeatures('Доставка опоздала на два часа', 'ru', 12);
    const [a, b] = [predictProbabilities(model, features), predictProbabilities(back, features)];
    for (let c = 0; c < 2; c++) expect(b[c]).toBeCloseTo(a[c]!, 3);
  });

  it('is byte-identical for identical weights', () => {
    const model = randomModel(8, ['negative', 'neutral', 'positive']);
    expect(serializeModel(model).equals(serializeModel({ ...model, weights: Float32Array.from(model.weights) }))).toBe(true);
  });

  it('keeps decision offsets per kind of text, which shift probabilities and labels for that kind only', () => {
    const model = { ...randomModel(10, ['negative', 'neutral', 'positive']), offsets: { post: [0, 1.5, 0], review: [0, -2, 0.5] } };
    const back = deserializeModel(serializeModel(model), 'test');
    expect(back.offsets).toEqual(model.offsets);
    const features = extractFeatures('Курьер приехал вовремя', 'ru', 10);
    const plain = predictProbabilities({ ...back, offsets: undefined }, features);
    const post = predictProbabilities(back, features, 'post');
    const review = predictProbabilities(back, features, 'review');
    // An offset of 1.5 on neutral multiplies its odds against negative by e^1.5.
    expect((post[1]! / post[0]!) / (plain[1]! / plain[0]!)).toBeCloseTo(Math.exp(1.5), 6);
    expect((review[2]! / review[0]!) / (plain[2]! / plain[0]!)).toBeCloseTo(Math.exp(0.5), 6);
  });

  it('writes a model without offsets exactly as before offsets existed', () => {
    const model = randomModel(8, ['negative', 'positive']);
    const raw = gunzipSync(serializeModel(model));
    const header = JSON.parse(raw.subarray(8, 8 + raw.readUInt32LE(4)).toString()) as object;
    expect(Object.keys(header)).toEqual(['name', 'lang', 'bits', 'classes', 'scale']);
  });

  it('names the file when it is not a model, or is cut short', () => {
    expect(() => deserializeModel(gzipSync(Buffer.from('PK\u0003\u0004 a zip file')), 'models/ru.bin')).toThrow('models/ru.bin: not an earshot sentiment model');
    const bytes = serializeModel(randomModel(8, ['negative', 'positive']));
    const raw = gunzipSync(bytes);
    expect(() => deserializeModel(gzipSync(raw.subarray(0, raw.length - 10)), 'brand model #3')).toThrow(/brand model #3: 507 weights, expected 512/);
    const lopsided = serializeModel({ ...randomModel(8, ['negative', 'positive']), offsets: { post: [0, 1], review: [0, 1, 2] } });
    expect(() => deserializeModel(lopsided, 'models/en.bin')).toThrow('models/en.bin: 3 review offsets for 2 classes');
  });
});
