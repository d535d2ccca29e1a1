import { describe, expect, it } from 'vitest';
import { extractFeatures, normalizeForFeatures } from './features.ts';
import { stemWord } from './stem.ts';

const BITS = 18;
const set = (text: string, lang: Parameters<typeof extractFeatures>[1]) => new Set(extractFeatures(text, lang, BITS).indices);
const shared = (a: Set<number>, b: Set<number>) => [...a].filter((x) => b.has(x)).length;

describe('extractFeatures', () => {
  it('gives unique indices inside the table and a value of 1/sqrt(count)', () => {
    const { indices, value } = extractFeatures('Очень-очень плохо плохо плохо!!! :( 😡 https://t.me/x @someone', 'ru', BITS);
    expect(new Set(indices).size).toBe(indices.length);
    for (const i of indices) expect(i).toBeLessThan(1 << BITS);
    expect(value).toBeCloseTo(1 / Math.sqrt(indices.length), 10);
  });

  it('is the same for the same text, whatever came before', () => {
    const first = [...extractFeatures('Курьер опоздал на час', 'ru', BITS).indices];
    extractFeatures('совсем другой текст, много слов, ещё больше слов', 'ru', BITS);
    expect([...extractFeatures('Курьер опоздал на час', 'ru', BITS).indices]).toEqual(first);
  });

  it('ignores case, ё, URLs, @handles and stretched letters', () => {
    expect(set('Ужжжасно!!! Всё плохо https://example.com @bank', 'ru')).toEqual(set('ужжасно!!! все плохо', 'ru'));
  });

  it('marks the words after a Russian or English negation, and the word before Kazakh емес or Uzbek emas', () => {
    // Negation changes the word's own features, so "не нравится" shares little with "нравится".
    expect(shared(set('нравится', 'ru'), set('не нравится', 'ru'))).toBeLessThan(3);
    expect(shared(set('good', 'en'), set('not good', 'en'))).toBeLessThan(3);
    expect(shared(set('жақсы', 'kk'), set('жақсы емес', 'kk'))).toBeLessThan(3);
    expect(shared(set('yaxshi', 'uz'), set('yaxshi emas', 'uz'))).toBeLessThan(3);
    // After punctuation the scope ends.
    const after = set('не звонил. нравится', 'ru');
    expect(shared(after, set('нравится', 'ru'))).toBeGreaterThan(5);
  });

  it('gives Kazakh typed on a Russian keyboard the features of the proper spelling', () => {
    expect(set('маган унады', 'kk')).toEqual(set('маған ұнады', 'kk'));
    expect(normalizeForFeatures('Күшті Қосымша', 'kk')).toBe('кушти косымша');
    expect(normalizeForFeatures("Yo‘q, o'zim", 'uz')).toBe('yoq, ozim');
    // Russian keeps its letters.
    expect(normalizeForFeatures('Ёлки и ИГРЫ', 'ru')).toBe('елки и игры');
  });

  it('keeps emoji and emoticons as features', () => {
    expect(set('заказ 😡', 'ru')).not.toEqual(set('заказ 😍', 'ru'));
    expect(set('заказ )))', 'ru')).not.toEqual(set('заказ (((', 'ru'));
  });
});

describe('stemWord', () => {
  it.each([
    ['колесах', 'ru', 'колес'],
    ['мошенникам', 'ru', 'мошенник'],
    ['charged', 'en', 'charg'],
    ['банкларының', 'kk', 'банк'],
    ['банктардын', 'kk', 'банк'],
    ['ilovalarda', 'uz', 'ilova'],
    ['dasturni', 'uz', 'dastur'],
  ] as const)('%s (%s) → %s', (word, lang, stem) => expect(stemWord(word, lang)).toBe(stem));

  it('keeps the Kazakh and Uzbek verb negation that carries the sentiment', () => {
    expect(stemWord('ұнамады', 'kk')).not.toBe(stemWord('ұнады', 'kk'));
    expect(stemWord('yoqmadi', 'uz')).not.toBe(stemWord('yoqdi', 'uz'));
  });
});
