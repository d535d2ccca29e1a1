import { describe, expect, it } from 'vitest';
import { evaluateRows, scoreLabels } from './eval.ts';

describe('scoreLabels', () => {
  it('averages F1 over the classes in the gold labels only', () => {
    // A prediction of a class absent from gold (neutral) counts against precision, not as a class of its own.
    const score = scoreLabels(['negative', 'negative', 'positive', 'positive'], ['negative', 'neutral', 'positive', 'negative']);
    expect(Object.keys(score.per_class)).toEqual(['negative', 'positive']);
    expect(score.per_class.negative).toEqual({ precision: 0.5, recall: 0.5, f1: 0.5, support: 2 });
    expect(score.per_class.positive).toEqual({ precision: 1, recall: 0.5, f1: 0.6667, support: 2 });
    expect(score.macro_f1).toBe(0.5833);
    expect(score.accuracy).toBe(0.5);
    expect(score.n).toBe(4);
  });

  it('refuses mismatched lengths', () => {
    expect(() => scoreLabels(['negative'], [])).toThrow('1 gold labels but 0 predictions');
  });
});

describe('evaluateRows', () => {
  it('classifies every row once and reports a rate', () => {
    const seen: string[] = [];
    const result = evaluateRows([{ text: 'a', label: 'x' }, { text: 'b', label: 'y' }], (text) => (seen.push(text), 'x'));
    expect(seen).toEqual(['a', 'b']);
    expect(result).toMatchObject({ n: 2, accuracy: 0.5 });
    expect(result.texts_per_s).toBeGreaterThan(0);
  });
});
