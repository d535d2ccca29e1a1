import { describe, expect, it } from 'vitest';
import { createKeywordMatcher } from './match.ts';
import { foldForMatch, normalizeText } from './normalize.ts';

describe('normalizeText', () => {
  it('applies NFKC, collapses whitespace and drops invisible characters', () => {
    expect(normalizeText('  Ｋａｓｐｉ\u00a0 bank\u200b\n\tok ')).toBe('Kaspi bank ok');
  });
  it('keeps ё for display; folding maps it to е and lower-cases', () => {
    expect(normalizeText('Ёлка')).toBe('Ёлка');
    expect(foldForMatch('ЁЛКА Зелёная')).toBe('елка зеленая');
  });
});

describe('createKeywordMatcher', () => {
  const matcher = createKeywordMatcher(['Ромашка', 'romashka', 'жетысу маркет', 'Ёлочка']);
  const cases: [string, string[]][] = [
    ['Магазин РОМАШКА опять закрыт', ['Ромашка']],
    ['Купил в #romashka вчера', ['romashka']],
    ["Romashka's delivery was late", ['romashka']],
    ['Жетысу   Маркет — лучший', ['жетысу маркет']],
    ['ёлочка и елочка', ['Ёлочка']],
    ['Елочка без ё тоже', ['Ёлочка']],
    ['ромашкаград не про нас', []],
    ['romashkas? no, romashkaland', []],
    ['ничего общего', []],
  ];
  it.each(cases)('%s', (text, expected) => {
    expect(matcher.find(text)).toEqual(expected);
  });
  it('ignores empty keywords', () => {
    expect(createKeywordMatcher(['  ', 'x']).find('a x b')).toEqual(['x']);
  });
});
