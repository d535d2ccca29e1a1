import { describe, expect, it } from 'vitest';
import { isActionable, scoreSentiment } from './score.ts';

describe('scoreSentiment with a rating', () => {
  it.each([
    [1, 'negative', -1],
    [2, 'negative', -0.5],
    [3, 'neutral', 0],
    [4, 'positive', 0.5],
    [5, 'positive', 1],
  ] as const)('%i stars → %s (%d)', (rating, label, score) => {
    expect(scoreSentiment({ text: 'whatever the text says', lang: 'en', rating })).toEqual({
      label,
      score,
      model: 'rating-v0',
    });
  });

  it('lets the rating win over the text', () => {
    expect(scoreSentiment({ text: 'I love it, amazing', lang: 'en', rating: 1 }).label).toBe('negative');
  });

  it.each([
    ['ru', 'Ужасно, деньги списали дважды'],
    ['kk', 'Өте нашар, ақша қайтармады'],
    ['uz', "Pul qaytarilmadi, yomon"],
    ['other', 'Ganz schlecht'],
  ] as const)('a 1★ %s review is negative and actionable', (lang, text) => {
    const result = scoreSentiment({ text, lang, rating: 1 });
    expect(result.label).toBe('negative');
    expect(isActionable({ label: result.label, rating: 1 })).toBe(true);
  });
});

describe('scoreSentiment on English text', () => {
  const score = (text: string) => scoreSentiment({ text, lang: 'en', rating: null });

  it('finds positive text', () => {
    const result = score('Great support team, they fixed my problem in minutes. Love it!');
    expect(result.label).toBe('positive');
    expect(result.model).toBe('wink-en');
    expect(result.score).toBeGreaterThan(0);
  });

  it('finds negative text', () => {
    expect(score('Terrible app, it crashes all the time and support is useless').label).toBe('negative');
  });

  it('handles negation', () => {
    expect(score('The food was not good').label).toBe('negative');
    expect(score('not bad at all').label).not.toBe('negative');
  });

  it('keeps plain statements neutral', () => {
    expect(score('The store opens at nine on Monday').label).toBe('neutral');
  });

  it('keeps the score within -1..1', () => {
    for (const text of ['awful awful awful horrible worst', 'best best amazing wonderful perfect']) {
      const { score: value } = score(text);
      expect(value).toBeGreaterThanOrEqual(-1);
      expect(value).toBeLessThanOrEqual(1);
    }
  });
});

describe('scoreSentiment without a model', () => {
  it.each(['ru', 'kk', 'uz', 'other'] as const)('%s text without a rating is unscored, not neutral', (lang) => {
    expect(scoreSentiment({ text: 'Ужасное обслуживание, больше не приду', lang, rating: null })).toEqual({
      label: 'unscored',
      score: null,
      model: 'none',
    });
  });
});

describe('isActionable', () => {
  it.each([
    ['negative', null, true],
    ['negative', 4, true],
    ['neutral', 2, true],
    ['unscored', 1, true],
    ['unscored', null, false],
    ['neutral', 3, false],
    ['positive', 5, false],
    ['positive', null, false],
  ] as const)('%s with rating %s → %s', (label, rating, expected) => {
    expect(isActionable({ label, rating })).toBe(expected);
  });
});
