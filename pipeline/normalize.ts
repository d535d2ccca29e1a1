const WHITESPACE = /[\s\u00a0\u200b-\u200d\u2060\ufeff]+/g;

/** Text as stored and shown: NFKC, one space between words, no invisible characters. */
export function normalizeText(text: string): string {
  return text.normalize('NFKC').replace(WHITESPACE, ' ').trim();
}

/**
 * Text as compared: normalized, lower-cased, ё folded to е (Russian writers use them interchangeably).
 * Mixed-script homoglyphs are a later step of the query language.
 */
export function foldForMatch(text: string): string {
  return normalizeText(text).toLowerCase().replaceAll('ё', 'е');
}
