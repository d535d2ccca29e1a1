import { describe, expect, it } from 'vitest';
import { foldForMatch, normalizeParagraphs, normalizeText } from './normalize.ts';

describe('normalizeText', () => {
  it('applies NFKC, collapses whitespace and drops invisible characters', () => {
    expect(normalizeText('  Ｋａｓｐｉ\u00a0 bank\u200b\n\tok ')).toBe('Kaspi bank ok');
  });
  it('keeps ё for display; folding maps it to е and lower-cases', () => {
    expect(normalizeText('Ёлка')).toBe('Ёлка');
    expect(foldForMatch('ЁЛКА Зелёная')).toBe('елка зеленая');
  });
});

describe('normalizeParagraphs', () => {
  it('normalizes each line and keeps one paragraph per line, blank lines dropped', () => {
    expect(normalizeParagraphs('  Ｋａｓｐｉ\u00a0 bank\r\n\n\n\t ok  \u2028last ')).toBe('Kaspi bank\nok\nlast');
    expect(normalizeParagraphs(' \n \n')).toBe('');
  });
});
