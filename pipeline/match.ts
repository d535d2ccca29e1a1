import { foldForMatch } from './normalize.ts';

// A keyword must stand as whole words: "kaspi" matches "Kaspi's" and "#kaspi" but not "kaspiyskiy".
const WORD_CHAR = /[\p{L}\p{N}_]/u;

export interface KeywordMatcher {
  /** The keywords of the brand that occur in the text, as configured. */
  find(text: string): string[];
}

/** Case- and ё-insensitive whole-word keyword matching; the full query language comes later. */
export function createKeywordMatcher(keywords: readonly string[]): KeywordMatcher {
  const folded = keywords
    .map((keyword) => ({ keyword, needle: foldForMatch(keyword) }))
    .filter((k) => k.needle.length > 0);
  return {
    find(text) {
      const haystack = foldForMatch(text);
      return folded.filter(({ needle }) => containsWord(haystack, needle)).map((k) => k.keyword);
    },
  };
}

function containsWord(haystack: string, needle: string): boolean {
  let from = 0;
  for (;;) {
    const at = haystack.indexOf(needle, from);
    if (at < 0) return false;
    const before = haystack[at - 1];
    const after = haystack[at + needle.length];
    if ((before === undefined || !WORD_CHAR.test(before)) && (after === undefined || !WORD_CHAR.test(after))) {
      return true;
    }
    from = at + 1;
  }
}
