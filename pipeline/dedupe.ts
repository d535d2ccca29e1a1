import { createHash } from 'node:crypto';
import { foldForMatch } from './normalize.ts';

/**
 * Near-duplicate detection: one story, one cluster, whether it was reposted, forwarded, quoted, retweeted,
 * pasted on several branches' pages or reposted with a comment. Pure: no I/O, no state between calls.
 *
 * The numbers below were tuned on bench/dedupe-set.ts (real fixture texts, edited the way people repost).
 */

export interface TextSignature {
  /** sha256 (base64url, 22 chars) of the content key; null when nothing is left of the text. */
  fingerprint: string | null;
  /**
   * LSH band keys for the database: decimal signed 64-bit integers, distinct, band index and shingling mixed
   * in so equal rows in different bands never collide. 25 per shingling signed (character and/or word, by
   * length) and per part signed (the whole text, and the text without a first or last paragraph that may be
   * a comment): 25 to 100, about 30 on average. Empty when the text is too short to compare.
   */
  bands: string[];
}

// Texts shorter than both are compared by fingerprint alone: a few words match too many unrelated posts.
const MIN_WORDS = 4;
const MIN_LETTERS = 20;

// Texts under WORD_MODE_FROM words (reviews, comments, headlines: half of what we see) are shingled by
// characters: a 10-word text has eight word 3-shingles and one edited word removes three of them, while
// character 5-shingles lose a few per edited word and none to a moved word boundary. Longer texts are told
// apart by word 3-shingles, which are also a sixth as many to hash. A pair is compared in the shingling of
// its shorter text; on the evaluation set 16 or 32 instead of 24 change recall by less than 0.5%.
const WORD_SHINGLE = 3;
const CHAR_SHINGLE = 5;
const WORD_MODE_FROM = 24;
// A short post with a comment or a few words added can cross WORD_MODE_FROM while the post stays under it:
// texts under CHAR_BANDS_BELOW words get character-shingle bands as well, so the two still meet (without
// this overlap recall on the evaluation set falls from 0.974 to 0.954).
const CHAR_BANDS_BELOW = 32;

// k = 100 permutations in 25 bands of 4 rows: a pair becomes a candidate with probability 1-(1-J^4)^25:
// 4% at Jaccard 0.2, 48% at 0.4, 80% at 0.5, 97% at 0.6, 99.9% at 0.7. On the evaluation set 20×5 misses
// more of the copies with two edits (recall 0.963 instead of 0.974); 33×3 finds a few more (0.979) for 2.5
// times the candidates from other stories and 30% more keys to store.
const BANDS = 25;
const ROWS = 4;
const PERMUTATIONS = BANDS * ROWS;

// Confirmation on the exact shingle sets. Jaccard catches edits spread over the text; containment catches a
// post inside a longer repost (a comment before or after, a truncated copy inside its original), but only
// when the smaller text is long enough to be a story rather than a shared phrase. On the evaluation set
// different stories reach Jaccard 0.48 and containment 0.75 at most (two near-identical paywall notes):
// J 0.4 or C 0.7 merge some of them (precision 0.995), J 0.6 or C 0.9 split copies (recall -0.5%).
const MIN_JACCARD = 0.5;
const MIN_CONTAINMENT = 0.8;
const MIN_CONTAINED_WORDS = 6;
// A first or last paragraph this large a share of the text may be a comment: see signedRanges.
const COMMENT_SHARE = 0.25;

const URL = /(?:https?:\/\/|www\.)\S+|(?<![\p{L}\p{N}_.])t\.me\/\S+/giu;
const MENTION = /(?<![\p{L}\p{N}_.])@[\p{L}\p{N}_.]+/gu;
const LEADING_NOISE = /^[^\p{L}\p{N}@#]+/u;
// Markers a repost starts with; `[^\n:]{0,80}:` is a one-line "Forwarded from Channel: text". Stored text has
// its line breaks collapsed, so without a colon or a line break the channel's name is taken as up to three
// words: a word of the story lost costs nothing, while taking the rest of the line would drop the story.
const REPOST_PREFIXES = [
  /^RT\s*@[\p{L}\p{N}_.]+\s*:?/iu,
  /^(?:forwarded from|переслано от|пересланное сообщение от)(?:[^\n:]{0,80}:|[^\n]*\n|(?:[ \t]+[^\s:]+){1,3})/iu,
  /^(?:репост|repost)(?![\p{L}\p{N}])\s*(?:от\s+|from\s+)?(?:@[\p{L}\p{N}_.]+)?\s*[:\-—–]?/iu,
];
// Hashtags appended at the end tag the post; they are not its story.
const TAG_OR_NOISE = /^[\p{P}\p{S}]*(?:#[\p{L}\p{N}_]+[\p{P}\p{S}]*)?$/u;
const HAS_WORD = /[\p{L}\p{N}]/u;

/** What the fingerprint hashes: folded text without links, mentions, repost markers, emoji or punctuation. */
export function contentKey(text: string): string {
  return paragraphWords(text).map((words) => words.join(' ')).join(' ');
}

/** The repost framing taken off: links, mentions, leading RT/forward/repost markers, trailing hashtags. */
function stripFraming(text: string): string {
  let rest = text.replace(URL, ' ');
  for (let stripped = true; stripped; ) {
    stripped = false;
    rest = rest.replace(LEADING_NOISE, '');
    for (const prefix of REPOST_PREFIXES) {
      const next = rest.replace(prefix, '');
      if (next !== rest) {
        rest = next;
        stripped = true;
      }
    }
  }
  if (rest.includes('@')) rest = rest.replace(MENTION, ' ');
  return rest.includes('#') ? dropTrailingHashtags(rest) : rest;
}

function dropTrailingHashtags(text: string): string {
  let end = text.length;
  let tagged = false;
  for (;;) {
    while (end > 0 && /\s/.test(text[end - 1]!)) end--;
    const start = Math.max(text.lastIndexOf(' ', end - 1), text.lastIndexOf('\n', end - 1)) + 1;
    const token = text.slice(start, end);
    if (start >= end || !TAG_OR_NOISE.test(token)) break;
    tagged ||= token.includes('#');
    end = start;
  }
  // A post of nothing but hashtags keeps them: they are all there is to compare.
  return tagged && HAS_WORD.test(text.slice(0, end)) ? text.slice(0, end) : text;
}

// Paragraphs are kept apart: a comment is usually a paragraph of its own, and no shingle crosses a break.
function paragraphWords(text: string): string[][] {
  const paragraphs: string[][] = [];
  for (const line of stripFraming(text).split('\n')) {
    const words = wordsOf(foldForMatch(line));
    if (words.length > 0) paragraphs.push(words);
  }
  return paragraphs;
}

// Letters, marks and digits make words; everything else (punctuation, emoji, symbols) separates them.
// Classified once per character and cached: a Unicode-class regex over every text cost as much as MinHash.
const WORD_CHAR = /^[\p{L}\p{M}\p{N}]$/u;
const bmpClass = new Uint8Array(0x10000);
const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;
function isWordChar(text: string, i: number): boolean {
  const code = text.charCodeAt(i);
  if (isHighSurrogate(code)) return WORD_CHAR.test(String.fromCodePoint(text.codePointAt(i)!));
  // The second half of a pair belongs to the word its first half is in.
  if (code >= 0xdc00 && code <= 0xdfff) return i > 0 && isHighSurrogate(text.charCodeAt(i - 1)) && isWordChar(text, i - 1);
  let cls = bmpClass[code]!;
  if (cls === 0) bmpClass[code] = cls = WORD_CHAR.test(String.fromCharCode(code)) ? 1 : 2;
  return cls === 1;
}

function wordsOf(text: string): string[] {
  const words: string[] = [];
  let start = -1;
  for (let i = 0; i <= text.length; i++) {
    const inWord = i < text.length && isWordChar(text, i);
    if (inWord && start < 0) start = i;
    else if (!inWord && start >= 0) {
      words.push(text.slice(start, i));
      start = -1;
    }
  }
  return words;
}

export type ShingleMode = 'word' | 'char';

/** A text's content key and paragraphs, with its shingle sets computed on first use. */
export class PreparedText {
  readonly key: string;
  readonly wordCount: number;
  /** Long enough to compare by shingles; shorter texts match exact copies only. */
  readonly comparable: boolean;
  /** The words of each paragraph. */
  readonly paragraphs: readonly (readonly string[])[];
  readonly #sets: Partial<Record<ShingleMode, Int32Array>> = {};

  constructor(paragraphs: readonly (readonly string[])[]) {
    this.paragraphs = paragraphs;
    this.key = paragraphs.map((words) => words.join(' ')).join(' ');
    this.wordCount = paragraphs.reduce((n, words) => n + words.length, 0);
    const letters = this.key.length - Math.max(0, this.wordCount - 1);
    this.comparable = this.wordCount >= MIN_WORDS || letters >= MIN_LETTERS;
  }

  /** The text's shingles, sorted, each once. */
  shingles(mode: ShingleMode): Int32Array {
    return (this.#sets[mode] ??= sortedUnique(concat(this.paragraphs.map((words) => shingle(words, mode)))));
  }
}

function shingle(words: readonly string[], mode: ShingleMode): Int32Array {
  return mode === 'word' ? wordShingles(words) : charShingles(words.join(''));
}

export function prepareText(text: string): PreparedText {
  return new PreparedText(paragraphWords(text));
}

export function signText(text: string): TextSignature {
  return signPrepared(prepareText(text));
}

/** signText for a text already prepared (the cluster index keeps them for confirmation). */
export function signPrepared(text: PreparedText): TextSignature {
  if (text.key === '') return { fingerprint: null, bands: [] };
  const fingerprint = createHash('sha256').update(text.key).digest('base64url').slice(0, 22);
  if (!text.comparable) return { fingerprint, bands: [] };
  const bands = new Set<string>();
  // A MinHash per paragraph, when first needed: a range's is their element-wise minimum, as its shingles are
  // their union.
  const sketches: Record<ShingleMode, Int32Array[]> = { word: [], char: [] };
  const sketch = (mode: ShingleMode, from: number, to: number) => {
    const each = sketches[mode];
    const out = new Int32Array(PERMUTATIONS).fill(0x7fffffff);
    for (let p = from; p < to; p++) {
      const one = (each[p] ??= minHash(shingle(text.paragraphs[p]!, mode)));
      for (let i = 0; i < PERMUTATIONS; i++) if (one[i]! < out[i]!) out[i] = one[i]!;
    }
    return out;
  };
  for (const [from, to, words] of signedRanges(text)) {
    // A part without its comment stands for the post as it was, which has bands in its own shingling: the
    // part needs only that one. The whole text gets both in the overlap (see CHAR_BANDS_BELOW).
    const whole = from === 0 && to === text.paragraphs.length;
    if (words >= WORD_MODE_FROM) bandKeys(sketch('word', from, to), 0, bands);
    if (words < (whole ? CHAR_BANDS_BELOW : WORD_MODE_FROM)) bandKeys(sketch('char', from, to), BANDS, bands);
  }
  return { fingerprint, bands: [...bands] };
}

/**
 * The paragraphs that get bands: all of them and, because a long comment on a short post leaves the two
 * too different for LSH however surely containment confirms them, the text without its first or without its
 * last paragraph when that paragraph is a large part of it (a small one the whole text's bands survive).
 */
function signedRanges(text: PreparedText): [from: number, to: number, words: number][] {
  const n = text.paragraphs.length;
  const ranges: [number, number, number][] = [[0, n, text.wordCount]];
  if (n < 2) return ranges;
  for (const [from, to, dropped] of [[1, n, 0], [0, n - 1, n - 1]] as const) {
    const words = text.wordCount - text.paragraphs[dropped]!.length;
    if (text.wordCount - words >= COMMENT_SHARE * text.wordCount && words >= MIN_CONTAINED_WORDS) ranges.push([from, to, words]);
  }
  return ranges;
}

export interface Comparison {
  duplicate: boolean;
  jaccard: number;
  containment: number;
  /** How sure: the measure that made it a duplicate (1 for an exact copy), 0 when it is not one. */
  score: number;
}

const NOT_DUPLICATE: Comparison = { duplicate: false, jaccard: 0, containment: 0, score: 0 };

/** Exact comparison of two prepared texts, in the shingling of the shorter one. */
export function compareTexts(a: PreparedText, b: PreparedText): Comparison {
  if (a.key === '' || b.key === '') return NOT_DUPLICATE;
  if (a.key === b.key) return { duplicate: true, jaccard: 1, containment: 1, score: 1 };
  if (!a.comparable || !b.comparable) return NOT_DUPLICATE;
  const shorter = Math.min(a.wordCount, b.wordCount);
  const mode: ShingleMode = shorter >= WORD_MODE_FROM ? 'word' : 'char';
  const sa = a.shingles(mode);
  const sb = b.shingles(mode);
  const common = intersectionSize(sa, sb);
  const smaller = Math.min(sa.length, sb.length);
  const jaccard = common / (sa.length + sb.length - common);
  const containment = smaller === 0 ? 0 : common / smaller;
  const byJaccard = jaccard >= MIN_JACCARD;
  const byContainment = shorter >= MIN_CONTAINED_WORDS && containment >= MIN_CONTAINMENT;
  const score = Math.max(byJaccard ? jaccard : 0, byContainment ? containment : 0);
  return { duplicate: score > 0, jaccard, containment, score };
}

/** Exact check on two texts, used to confirm LSH candidates: true when they tell the same story. */
export function isNearDuplicate(a: string, b: string): boolean {
  return compareTexts(prepareText(a), prepareText(b)).duplicate;
}

function fnv1a(text: string, from = 0, to = text.length): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h;
}

// murmur3's finalizer: FNV alone leaves the high bits, which decide the minimum, poorly mixed.
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

function combine(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  h ^= Math.imul(k, 0x1b873593);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function wordShingles(words: readonly string[]): Int32Array {
  const hashes = words.map((w) => fnv1a(w));
  const count = Math.max(1, hashes.length - WORD_SHINGLE + 1);
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    let h = WORD_SHINGLE;
    for (let j = i; j < Math.min(i + WORD_SHINGLE, hashes.length); j++) h = combine(h, hashes[j]!);
    out[i] = fmix(h);
  }
  return out;
}

function concat(arrays: readonly Int32Array[]): Int32Array {
  const out = new Int32Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

function charShingles(letters: string): Int32Array {
  const count = Math.max(1, letters.length - CHAR_SHINGLE + 1);
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) out[i] = fmix(fnv1a(letters, i, Math.min(i + CHAR_SHINGLE, letters.length)));
  return out;
}

function sortedUnique(values: Int32Array): Int32Array {
  const sorted = values.sort();
  let n = 0;
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[n - 1]) sorted[n++] = sorted[i]!;
  return sorted.subarray(0, n);
}

function intersectionSize(a: Int32Array, b: Int32Array): number {
  let i = 0;
  let j = 0;
  let common = 0;
  while (i < a.length && j < b.length) {
    if (a[i]! < b[j]!) i++;
    else if (a[i]! > b[j]!) j++;
    else {
      common++;
      i++;
      j++;
    }
  }
  return common;
}

// Fixed seeds (splitmix32 from a constant): the same text gets the same bands in every process and release;
// changing them re-keys every stored mention.
const MULTIPLIERS = new Int32Array(PERMUTATIONS);
const ADDENDS = new Int32Array(PERMUTATIONS);
{
  let state = 0x2545f491;
  const next = () => {
    state = (state + 0x9e3779b9) | 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    return z ^ (z >>> 15);
  };
  for (let i = 0; i < PERMUTATIONS; i++) {
    MULTIPLIERS[i] = next() | 1;
    ADDENDS[i] = next();
  }
}

/**
 * Permutation i is x → a_i·x + b_i mod 2^32 (a_i odd, so a bijection) over the already mixed shingle hashes.
 * The values stay in int32 (V8 keeps them unboxed): flipping the top bit makes signed order the unsigned one.
 */
function minHash(shingles: Int32Array): Int32Array {
  const mins = new Int32Array(PERMUTATIONS);
  // Permutation by permutation: the running minimum and the coefficients stay in registers.
  for (let i = 0; i < PERMUTATIONS; i++) {
    const a = MULTIPLIERS[i]!;
    const b = ADDENDS[i]!;
    let min = 0x7fffffff;
    for (let s = 0; s < shingles.length; s++) {
      const v = ((Math.imul(a, shingles[s]!) + b) | 0) ^ 0x80000000;
      if (v < min) min = v;
    }
    mins[i] = min;
  }
  return mins;
}

function bandKeys(mins: Int32Array, firstBand: number, out: Set<string>): void {
  for (let band = 0; band < BANDS; band++) {
    let hi = 0x5bd1e995 ^ (firstBand + band);
    let lo = 0x1b873593 ^ Math.imul(firstBand + band + 1, 0x9e3779b1);
    for (let r = band * ROWS; r < (band + 1) * ROWS; r++) {
      hi = combine(hi, mins[r]!);
      lo = combine(lo, mins[r]! ^ 0xa5a5a5a5);
    }
    const key = (BigInt(fmix(hi) >>> 0) << 32n) | BigInt(fmix(lo) >>> 0);
    out.add(BigInt.asIntN(64, key).toString());
  }
}
