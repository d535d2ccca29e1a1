const WHITESPACE = /[\s\u00a0\u200b-\u200d\u2060\ufeff]+/g;

/** A title or a line: NFKC, one space between words, no invisible characters. */
export function normalizeText(text: string): string {
  return text.normalize('NFKC').replace(WHITESPACE, ' ').trim();
}

/**
 * A mention's text as stored and shown: each line normalized, empty lines dropped, paragraphs kept one per
 * line. A post's paragraphs are what tells a repost's comment from the story (see pipeline/dedupe.ts).
 */
export function normalizeParagraphs(text: string): string {
  const lines: string[] = [];
  for (const line of text.normalize('NFKC').split(/[\n\r\u2028\u2029\v\f]+/)) {
    const normalized = normalizeText(line);
    if (normalized !== '') lines.push(normalized);
  }
  return lines.join('\n');
}

/**
 * Text as compared: normalized, lower-cased, ё folded to е (Russian writers use them interchangeably), and
 * Latin/Cyrillic look-alikes inside a mixed-script word folded to the word's main script.
 */
export function foldForMatch(text: string): string {
  return foldHomoglyphs(normalizeText(text).toLowerCase().replaceAll('ё', 'е'));
}

/** One word as compared, the same as `foldForMatch` gives for it, without the whitespace pass. */
export function foldWord(word: string): string {
  let stable = true;
  for (let i = 0; i < word.length && stable; i++) stable = (charFlags(word.charCodeAt(i)) & NFKC_UNSTABLE) === 0;
  const lower = (stable ? word : word.normalize('NFKC')).toLowerCase();
  return foldHomoglyphs(lower.includes('ё') ? lower.replaceAll('ё', 'е') : lower);
}

/** Flags of a character: part of a word (letter, digit, mark), its script, whether NFKC may change it. */
export const WORD_CHAR = 1;
export const LATIN = 2;
export const CYRILLIC = 4;
export const NFKC_UNSTABLE = 8;
const KNOWN = 16;

const IS_WORD = /^[\p{L}\p{N}\p{M}]$/u;
const IS_LATIN = /^\p{Script=Latin}$/u;
const IS_CYRILLIC = /^\p{Script=Cyrillic}$/u;
const IS_MARK = /^\p{M}$/u;
// Computed on first sight: texts use a few hundred distinct characters, so this is a table lookup after warm-up.
const bmpFlags = new Uint8Array(0x10000);
const astralFlags = new Map<number, number>();

function computeFlags(cp: number): number {
  const ch = String.fromCodePoint(cp);
  let flags = KNOWN;
  if (IS_WORD.test(ch)) {
    flags |= WORD_CHAR;
    if (IS_LATIN.test(ch)) flags |= LATIN;
    else if (IS_CYRILLIC.test(ch)) flags |= CYRILLIC;
  }
  // Marks and Hangul jamo compose with their neighbours, so a word holding one needs the real NFKC.
  if (ch.normalize('NFKC') !== ch || IS_MARK.test(ch) || (cp >= 0x1100 && cp <= 0x11ff)) flags |= NFKC_UNSTABLE;
  return flags;
}

/** Flags of a code point (a UTF-16 code unit for the BMP; surrogate halves are not word characters alone). */
export function charFlags(cp: number): number {
  if (cp < 0x10000) {
    let flags = bmpFlags[cp]!;
    if (flags === 0) {
      // A lone surrogate half says nothing; marking it unstable sends its word through the real NFKC.
      flags = cp >= 0xd800 && cp <= 0xdfff ? KNOWN | NFKC_UNSTABLE : computeFlags(cp);
      bmpFlags[cp] = flags;
    }
    return flags;
  }
  let flags = astralFlags.get(cp);
  if (flags === undefined) astralFlags.set(cp, (flags = computeFlags(cp)));
  return flags;
}

// Look-alike pairs, Latin then Cyrillic, both cases; lower-case b/h/m/t/k pair too because foldForMatch
// lower-cases first, so "Bелый" arrives as "bелый".
const PAIRS = 'aа bв cс eе hн iі jј kк mм oо pр sѕ tт xх yу AА BВ CС EЕ HН IІ JЈ KК MМ OО PР SЅ TТ XХ YУ';
// Cyrillic letters that only look like a Latin one (the Latin letter already pairs with another Cyrillic one).
const CYRILLIC_ONLY = 'һh ԁd ԛq ԝw үy ҺH ҮY';
const toCyrillic = new Map<number, string>();
const toLatin = new Map<number, string>();
for (const pair of PAIRS.split(' ')) {
  toCyrillic.set(pair.charCodeAt(0), pair[1]!);
  toLatin.set(pair.charCodeAt(1), pair[0]!);
}
for (const pair of CYRILLIC_ONLY.split(' ')) toLatin.set(pair.charCodeAt(0), pair[1]!);

/**
 * In a word that mixes Latin and Cyrillic letters, replaces the look-alikes of the minority script by the
 * majority's letters (ties: the script of the word's first letter): "Kаspi" with a Cyrillic а becomes
 * "Kaspi", "Ромашкa" with a Latin a becomes "Ромашка". Words in one script stay as they are, and so does a
 * Latin name with a Cyrillic ending, both of two or more letters ("Kaspiде", "iPhoneға"): that is grammar,
 * not a disguise.
 */
export function foldHomoglyphs(text: string): string {
  let out = '';
  let flushed = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    let flags = charFlags(text.charCodeAt(i));
    if ((flags & WORD_CHAR) === 0) {
      i++;
      continue;
    }
    const start = i;
    let scripts = 0;
    do {
      scripts |= flags;
      i++;
      flags = i < n ? charFlags(text.charCodeAt(i)) : 0;
    } while (flags & WORD_CHAR);
    if ((scripts & (LATIN | CYRILLIC)) === (LATIN | CYRILLIC)) {
      const folded = foldMixedWord(text.slice(start, i));
      if (folded !== null) {
        out += text.slice(flushed, start) + folded;
        flushed = i;
      }
    }
  }
  return flushed === 0 ? text : out + text.slice(flushed);
}

/** The folded word, or null when it stays as it is. */
function foldMixedWord(word: string): string | null {
  let latin = 0;
  let cyrillic = 0;
  let first = 0;
  let switches = 0;
  let last = 0;
  let firstRun = 0;
  let lastRun = 0;
  for (let i = 0; i < word.length; i++) {
    const script = charFlags(word.charCodeAt(i)) & (LATIN | CYRILLIC);
    if (script === 0) continue;
    if (script === LATIN) latin++;
    else cyrillic++;
    if (first === 0) first = script;
    if (last !== 0 && script !== last) {
      switches++;
      lastRun = 0;
    }
    last = script;
    lastRun++;
    if (switches === 0) firstRun++;
  }
  // A Latin name then a Cyrillic ending ("Kaspiден"), not one stray letter ahead of a Cyrillic word ("Bелый").
  if (switches === 1 && first === LATIN && firstRun >= 2 && lastRun >= 2) return null;
  const majority = latin > cyrillic ? LATIN : cyrillic > latin ? CYRILLIC : first;
  const map = majority === LATIN ? toLatin : toCyrillic;
  let folded = '';
  for (let i = 0; i < word.length; i++) {
    const code = word.charCodeAt(i);
    folded += (charFlags(code) & majority) === 0 ? (map.get(code) ?? word[i]) : word[i];
  }
  return folded === word ? null : folded;
}
