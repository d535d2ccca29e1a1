import { createRequire } from 'node:module';
import type { Lang } from './language.ts';
import { findActionReasons } from './actionable.ts';
import { foldLetters } from './fold.ts';
import { stemWord } from './stem.ts';

/**
 * Hashed features of one text for the linear sentiment models: word stems (negation-marked), stem
 * bigrams, character n-grams of each word, emoji and emoticons, intensifiers, punctuation, and for
 * English wink-nlp's own tokens, negation flags and lexicon score.
 */
export interface Features {
  /** Feature indices in [0, 2^bits); unique. */
  indices: Uint32Array;
  /** The value every feature carries: 1/sqrt(count), so long texts do not dominate. */
  value: number;
}

const URL = /(?:https?:\/\/|www\.)\S+/gu;
const USER = /@[\p{L}\p{N}_.]+/gu;
// Words (letters with inner apostrophes: o'zbek, don't), numbers, bracket runs, emoticons, emoji, ! and ?.
const TOKEN =
  /[\p{L}\p{M}]+(?:['ʻʼ’`][\p{L}\p{M}]+)*|\p{N}+|[)]{2,}|[(]{2,}|[:;=][-^o'ʼ]?[)(\]\[dpр/\\|*3]|<3|\p{Extended_Pictographic}|[!?.,;]/gu;
const LETTER = /^\p{L}/u;
const REPEATS = /(\p{L})\1{2,}/gu;
const APOSTROPHES = /[ʻʼ’`]/gu;

// Kazakh and Uzbek text is folded before lookup (see normalizeForFeatures), so their word lists are too.
const folded = (words: readonly string[]) => new Set(words.map(foldLetters));

// Negation before the word (Russian, English) marks the next few words; after it (Kazakh емес/жоқ,
// Uzbek emas/yo'q) marks the word before.
const NEGATE_NEXT: Partial<Record<Lang, ReadonlySet<string>>> = {
  ru: new Set(['не', 'нет', 'ни', 'без', 'никогда', 'ничего', 'нельзя', 'нету', 'ниче']),
  en: new Set(['not', 'no', 'never', 'nothing', 'nobody', 'none', 'nor', 'cannot', 'without']),
  kk: folded(['не', 'нет', 'ешқашан', 'ешкашан', 'ешқандай', 'ешкандай', 'hech']),
  uz: folded(['hech', 'хеч', 'ҳеч', 'не']),
};
const NEGATE_PREVIOUS: Partial<Record<Lang, ReadonlySet<string>>> = {
  kk: folded(['емес', 'жоқ', 'жок', 'emes', 'joq', 'zhoq', 'жоғ']),
  uz: folded(['emas', "yo'q", 'yoq', 'эмас', 'йўқ', 'йук']),
};
const INTENSIFIERS: Partial<Record<Lang, ReadonlySet<string>>> = {
  ru: new Set(['очень', 'сильно', 'крайне', 'совсем', 'вообще', 'самый', 'самая', 'самое', 'слишком', 'абсолютно', 'супер', 'дико', 'ужасно', 'безумно', 'просто', 'реально']),
  en: new Set(['very', 'so', 'really', 'extremely', 'totally', 'absolutely', 'too', 'super', 'most', 'incredibly', 'completely']),
  kk: folded(['өте', 'оте', 'тым', 'аса', 'нағыз', 'нагыз', 'ең', 'ен', 'óte', 'öte', 'ote', 'tym', 'eñ']),
  uz: folded(['juda', 'judayam', 'eng', "o'ta", 'жуда', 'энг', 'ўта', 'rosa', 'роса']),
};
const NEGATION_WINDOW = 3;
const CHAR_MIN = 3;
const CHAR_MAX = 5;
// Long words add little beyond their first n-grams; the cap bounds work on pasted garbage.
const CHAR_WORD_LIMIT = 24;
const WORD_CACHE_LIMIT = 200_000;

const SEED = { word: 1, negated: 2, bigram: 3, char: 4, symbol: 5, shape: 6, wink: 7, intensified: 8, rule: 9 } as const;

function hashString(s: string, seed: number): number {
  let h = (0x811c9dc5 ^ Math.imul(seed, 0x9e3779b1)) >>> 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return finalize(h);
}

function combine(a: number, b: number, seed: number): number {
  return finalize(Math.imul(a ^ Math.imul(seed, 0x85ebca6b), 0x9e3779b1) ^ b);
}

function finalize(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

interface WordInfo {
  stem: number;
  chars: Uint32Array;
}

const wordCaches = new Map<Lang, Map<string, WordInfo>>();

function wordInfo(word: string, lang: Lang): WordInfo {
  let cache = wordCaches.get(lang);
  if (cache === undefined) wordCaches.set(lang, (cache = new Map()));
  let info = cache.get(word);
  if (info === undefined) {
    info = { stem: hashString(stemWord(word, lang), SEED.word), chars: charGrams(word) };
    if (cache.size >= WORD_CACHE_LIMIT) cache.clear();
    cache.set(word, info);
  }
  return info;
}

// Character n-grams of "^word$", hashed incrementally from each start: no substring is built.
function charGrams(word: string): Uint32Array {
  const length = Math.min(word.length, CHAR_WORD_LIMIT) + 2;
  // Short words are fully described by their stem; their n-grams only add noise.
  if (length <= CHAR_MIN + 1) return new Uint32Array(0);
  const codeAt = (i: number) => (i === 0 ? 0x5e : i === length - 1 ? 0x24 : word.charCodeAt(i - 1));
  const grams: number[] = [];
  const start = (0x811c9dc5 ^ Math.imul(SEED.char, 0x9e3779b1)) >>> 0;
  for (let i = 0; i + CHAR_MIN <= length; i++) {
    let h = start;
    for (let n = 1; n <= CHAR_MAX && i + n <= length; n++) {
      h = Math.imul(h ^ codeAt(i + n - 1), 0x01000193);
      if (n >= CHAR_MIN) grams.push(finalize(h));
    }
  }
  return Uint32Array.from(grams);
}

/** Lower case, ё→е, one apostrophe, no URLs or @handles, letters repeated 3+ times cut to 2. */
export function normalizeForFeatures(text: string, lang: Lang): string {
  const lower = text
    .toLowerCase()
    .replace(URL, ' ')
    .replace(USER, ' ')
    .replaceAll('ё', 'е')
    .replace(APOSTROPHES, "'")
    .replace(REPEATS, '$1$1');
  // Kazakh and Uzbek are often typed on a Russian keyboard: both spellings share features.
  return lang === 'kk' || lang === 'uz' ? foldLetters(lower) : lower;
}


interface Token {
  text: string;
  word: boolean;
  negated: boolean;
}

type Wink = ReturnType<typeof import('wink-nlp').default>;
const require = createRequire(import.meta.url);
let wink: Wink | undefined;

function loadWink(): Wink {
  if (wink === undefined) {
    const winkNLP = require('wink-nlp') as typeof import('wink-nlp').default;
    const model = require('wink-eng-lite-web-model') as typeof import('wink-eng-lite-web-model').default;
    wink = winkNLP(model, ['sbd', 'negation', 'sentiment']);
  }
  return wink;
}

/** Loads wink-nlp's English model now (about 90 ms) rather than on the first English text. */
export function preloadWink(): void {
  loadWink();
}

function tokenize(normalized: string, lang: Lang): Token[] {
  const tokens: Token[] = [];
  for (const match of normalized.matchAll(TOKEN)) {
    const text = match[0];
    tokens.push({ text, word: LETTER.test(text), negated: false });
  }
  const next = NEGATE_NEXT[lang];
  const previous = NEGATE_PREVIOUS[lang];
  let scope = 0;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (!token.word) {
      if (/^[!?.,;]$/.test(token.text)) scope = 0;
      continue;
    }
    if (next?.has(token.text) || (lang === 'en' && token.text.endsWith("n't"))) {
      scope = NEGATION_WINDOW;
      continue;
    }
    if (previous?.has(token.text)) {
      for (let j = i - 1; j >= 0; j--) {
        if (tokens[j]!.word) {
          tokens[j]!.negated = true;
          break;
        }
      }
      continue;
    }
    if (scope > 0) {
      token.negated = true;
      scope--;
    }
  }
  return tokens;
}

/** English goes through wink-nlp: its tokens and negation flags, plus its lexicon score as a feature. */
function tokenizeEnglish(text: string): { tokens: Token[]; score: number } {
  const nlp = loadWink();
  const doc = nlp.readDoc(text);
  const normals = doc.tokens().out(nlp.its.normal) as string[];
  const types = doc.tokens().out(nlp.its.type) as string[];
  const negations = doc.tokens().out(nlp.its.negationFlag) as boolean[];
  const tokens: Token[] = [];
  for (let i = 0; i < normals.length; i++) {
    const type = types[i]!;
    if (type === 'url' || type === 'mention' || type === 'tabCRLF' || type === 'spacing') continue;
    const normal = normals[i]!;
    if (type === 'punctuation' && !/^[!?.,;]$/.test(normal)) continue;
    tokens.push({ text: normal.replaceAll('’', "'"), word: type === 'word' || type === 'hashtag', negated: negations[i] === true });
  }
  return { tokens, score: doc.out(nlp.its.sentiment) as number };
}

// Deduplication without a Set per text: a bucket is taken when its stamp equals this text's generation.
let seen: Uint32Array = new Uint32Array(0);
let stamp = 0;
let buffer: Uint32Array = new Uint32Array(1024);

function nextGeneration(bits: number): number {
  if (seen.length !== 1 << bits || stamp === 0xffffffff) {
    seen = new Uint32Array(1 << bits);
    stamp = 0;
  }
  return ++stamp;
}

function growBuffer(old: Uint32Array): Uint32Array {
  const grown = new Uint32Array(old.length * 2);
  grown.set(old);
  return grown;
}

export function extractFeatures(text: string, lang: Lang, bits: number): Features {
  const mask = (1 << bits) - 1 >>> 0;
  const generation = nextGeneration(bits);
  let count = 0;
  const add = (h: number) => {
    const index = (h & mask) >>> 0;
    if (seen[index] === generation) return;
    seen[index] = generation;
    if (count === buffer.length) buffer = growBuffer(buffer);
    buffer[count++] = index;
  };
  const normalized = normalizeForFeatures(text, lang);

  let tokens: Token[];
  if (lang === 'en') {
    const english = tokenizeEnglish(normalized);
    tokens = english.tokens;
    // wink's score in fifths, and its sign: a prior the model can weigh against the words.
    add(hashString(`s${Math.round(english.score * 5)}`, SEED.wink));
    add(hashString(english.score > 0.05 ? 'pos' : english.score < -0.05 ? 'neg' : 'zero', SEED.wink));
  } else tokens = tokenize(normalized, lang);

  const intensifiers = INTENSIFIERS[lang];
  let previousStem = hashString('<s>', SEED.word);
  let intensify = false;
  let exclamations = 0;
  let questions = 0;
  for (const token of tokens) {
    if (!token.word) {
      if (token.text === '!') exclamations++;
      else if (token.text === '?') questions++;
      else if (/^\p{N}/u.test(token.text)) add(hashString('<num>', SEED.symbol));
      else if (token.text.length > 1 && /^[)(]+$/.test(token.text)) add(hashString(token.text[0]!.repeat(2), SEED.symbol));
      else if (!/^[.,;]$/.test(token.text)) add(hashString(token.text, SEED.symbol));
      continue;
    }
    const info = wordInfo(token.text, lang);
    add(token.negated ? combine(info.stem, 0, SEED.negated) : info.stem);
    add(combine(previousStem, info.stem, SEED.bigram));
    if (intensify) add(combine(info.stem, 0, SEED.intensified));
    // A negated word's spelling must not vote as the plain word does: its n-grams are negated too.
    if (token.negated) for (const c of info.chars) add(combine(c, 0, SEED.negated));
    else for (const c of info.chars) add(c);
    previousStem = info.stem;
    intensify = intensifiers?.has(token.text) === true;
  }
  add(combine(previousStem, hashString('</s>', SEED.word), SEED.bigram));
  // The reply rules' domain lexicons (не работает, верните деньги, мошенники, списали...) as features.
  for (const reason of findActionReasons(text, lang)) add(hashString(reason, SEED.rule));
  if (exclamations > 0) add(hashString(exclamations > 2 ? '!!!' : '!', SEED.shape));
  if (questions > 0) add(hashString('?', SEED.shape));
  add(hashString('<bias>', SEED.shape));

  const indices = buffer.slice(0, count);
  return { indices, value: 1 / Math.sqrt(indices.length) };
}
