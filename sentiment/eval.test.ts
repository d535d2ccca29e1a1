import { describe, expect, it } from 'vitest';
import { evaluateRows, scoreLabels } from './eval.ts';
import type { LabelledText } from './labelled.ts';

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
    expect(score.confusion).toEqual({ negative: { negative: 1, neutral: 1 }, positive: { positive: 1, negative: 1 } });
  });

  it('refuses mismatched lengths', () => {
    expect(() => scoreLabels(['negative'], [])).toThrow('1 gold labels but 0 predictions');
  });
});

describe('evaluateRows', () => {
  it('classifies every row once by its text and reports a rate', () => {
    const seen: string[] = [];
    const rows: LabelledText[] = [{ text: 'a', label: 'negative', line: 1 }, { text: 'b', label: 'positive', line: 2 }];
    const result = evaluateRows(rows, (text, kind, rating) => (seen.push(`${text} ${kind} ${rating}`), 'negative'));
    expect(seen).toEqual(['a post null', 'b post null']);
    expect(result).toMatchObject({ n: 2, accuracy: 0.5, by_kind: {} });
    expect(result.texts_per_s).toBeGreaterThan(0);
  });

  it('scores posts and reviews apart, and reviews again with their stars', () => {
    const rows: LabelledText[] = [
      { text: 'p1', label: 'neutral', line: 1, kind: 'post' },
      { text: 'p2', label: 'negative', line: 2, kind: 'post' },
      { text: 'r1', label: 'negative', line: 3, kind: 'review', rating: 1 },
      { text: 'r2', label: 'neutral', line: 4, kind: 'review', rating: 3 },
    ];
    // The text alone reads every text as negative; with stars, 1★ stays negative and 3★ turns neutral.
    const result = evaluateRows(rows, (_, __, rating) => (rating === 3 ? 'neutral' : 'negative'));
    expect(result.accuracy).toBe(0.5);
    expect(result.by_kind.post).toMatchObject({ n: 2, accuracy: 0.5 });
    expect(result.by_kind.review).toMatchObject({ n: 2, accuracy: 0.5 });
    expect(result.by_kind.review_with_stars).toMatchObject({ n: 2, accuracy: 1, confusion: { negative: { negative: 1 }, neutral: { neutral: 1 } } });
  });
});
