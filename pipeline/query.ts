import { z } from 'zod';
import { foldLetters } from '../sentiment/fold.ts';
import type { Lang } from '../sentiment/language.ts';
import { stemWord } from '../sentiment/stem.ts';
import { charFlags, CYRILLIC, foldWord, LATIN, WORD_CHAR } from './normalize.ts';

/**
 * The brand query language:
 *   kaspi            the word in any of its forms: stemmed (Snowball for Russian/English, suffix rules for
 *                    Kazakh/Uzbek endings), Kazakh/Uzbek keyboard variants folded (қ/к, ү/у, o'/o); an
 *                    abbreviation (мтс, втб) with its case endings glued on (МТСа, МТСу, МТСом)
 *   "верните деньги" these words in a row, as written (no stemming); «…» and “…” quote too
 *   kasp*            words starting with "kasp" (keyboard variants folded as for words)
 *   a NEAR/3 b       a and b with at most 3 words between them, in either order
 *   a b, a AND b     both;  a OR b  either;  NOT a, -a  not a;  ( ) groups
 * Precedence: NOT > NEAR > AND > OR; operators are case-insensitive. Everywhere case, ё/е and look-alike
 * letters in mixed-script words are ignored. Text words are runs of letters and digits, so #kaspi and
 * @kaspi_bank hold the word kaspi; a hashtag's camel case and a Latin name's Cyrillic ending (Kaspiден)
 * give sub-words that words and prefixes match too.
 */

export class QuerySyntaxError extends Error {
  override name = 'QuerySyntaxError';
  /** 1-based position in the query (UTF-16 units) where the problem is. */
  readonly column: number;
  constructor(column: number, problem: string) {
    super(`column ${column}: ${problem}`);
    this.column = column;
  }
}

/** Offsets into the text passed to `match` (UTF-16), end exclusive. */
export interface Highlight {
  start: number;
  end: number;
}

export interface CompiledQuery {
  source: string;
  /** null when the text does not match; otherwise the spans of the words/phrases that made it match (for highlighting). */
  match(text: string): Highlight[] | null;
}

const MAX_NEAR = 100;
const MIN_PREFIX = 2;
/**
 * How deep groups, NOTs and NEAR chains may nest. The parser, the checks and the matcher recurse once per
 * level, so a deeper query would overflow the stack; no real query comes near this.
 */
export const MAX_QUERY_DEPTH = 100;

// ---- Text side: words with their original offsets ----------------------------------------------------------

const LANGS: readonly Lang[] = ['ru', 'kk', 'en', 'uz'];
const RU = 0;
const KK = 1;
const EN = 2;
const UZ = 3;

/** A distinct folded word: its letter-folded key and the stems asked for so far, by LANGS index. */
interface WordInfo {
  key: string;
  first: number;
  stems: (string | undefined)[];
}

/** A sub-word (the Latin name in "Kaspiден", "Bank" in "#KaspiBank"), offsets relative to its word. */
interface SubWord {
  from: number;
  to: number;
  info: WordInfo;
}

/** A word as written, folded once for every text it appears in. */
interface WordEntry {
  /** As foldForMatch gives it: what phrases compare. */
  word: string;
  info: WordInfo;
  parts: SubWord[] | null;
  /** Parts when the word follows # or @, where camel case separates words too; computed when first needed. */
  tagParts?: SubWord[] | null;
}

interface Token {
  start: number;
  end: number;
  entry: WordEntry;
  tagged: boolean;
}

// Word frequencies are Zipfian: after warm-up nearly every word of a crawled text is a map hit, which keeps
// NFKC, homoglyph and letter folding out of the per-text cost. Cleared when full, like the stem cache.
const CACHE_LIMIT = 100_000;
const entries = new Map<string, WordEntry>();
const infos = new Map<string, WordInfo>();

// ' ’ ‘ ` ´ (ʼ and ʻ are letters already).
const APOSTROPHES = new Set([0x27, 0x2019, 0x2018, 0x60, 0xb4]);
const ENGLISH_ENDINGS = new Set(['s', 't', 'd', 'm', 'll', 're', 've']);

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    let cp = codePointAt(text, i);
    if ((charFlags(cp) & WORD_CHAR) === 0) {
      i += cp > 0xffff ? 2 : 1;
      continue;
    }
    const start = i;
    for (;;) {
      i += cp > 0xffff ? 2 : 1;
      if (i >= n) break;
      cp = codePointAt(text, i);
      if ((charFlags(cp) & WORD_CHAR) !== 0) continue;
      if (!APOSTROPHES.has(cp) || !apostropheJoins(text, start, i)) break;
    }
    const tagged = start > 0 && (text[start - 1] === '#' || text[start - 1] === '@');
    tokens.push({ start, end: i, entry: entryOf(text.slice(start, i)), tagged });
  }
  return tokens;
}

function codePointAt(text: string, i: number): number {
  const unit = text.charCodeAt(i);
  return unit >= 0xd800 && unit <= 0xdbff ? (text.codePointAt(i) ?? unit) : unit;
}

// English endings ("kaspi's", "don't") and the Uzbek o'/g' ("o'zbek") stay in the word; any other apostrophe
// separates, so "Halyk'ta" and "Kaspi'ге" give the name alone.
function apostropheJoins(text: string, start: number, at: number): boolean {
  if (at === start || !(charFlags(text.charCodeAt(at - 1)) & LATIN)) return false;
  let end = at + 1;
  while (end < text.length && charFlags(text.charCodeAt(end)) & LATIN) end++;
  if (end === at + 1 || (end < text.length && charFlags(text.charCodeAt(end)) & WORD_CHAR)) return false;
  const before = text[at - 1]!.toLowerCase();
  return before === 'o' || before === 'g' || ENGLISH_ENDINGS.has(text.slice(at + 1, end).toLowerCase());
}

function entryOf(raw: string): WordEntry {
  let entry = entries.get(raw);
  if (entry === undefined) {
    const word = foldWord(raw);
    entry = { word, info: infoOf(word), parts: splitParts(raw, word, false) };
    if (entries.size >= CACHE_LIMIT) entries.clear();
    entries.set(raw, entry);
  }
  return entry;
}

function infoOf(word: string): WordInfo {
  let info = infos.get(word);
  if (info === undefined) {
    const key = foldLetters(word);
    info = { key, first: key.charCodeAt(0), stems: [] };
    if (infos.size >= CACHE_LIMIT) infos.clear();
    infos.set(word, info);
  }
  return info;
}

function partsOf(token: Token, text: string): SubWord[] | null {
  const { entry } = token;
  if (!token.tagged) return entry.parts;
  if (entry.tagParts === undefined) entry.tagParts = splitParts(text.slice(token.start, token.end), entry.word, true);
  return entry.tagParts;
}

/** Sub-words where a word still switches script after folding, and at camel case in hashtags and handles. */
function splitParts(raw: string, word: string, tagged: boolean): SubWord[] | null {
  // Offsets are the raw word's; NFKC or lower-casing that changed the length leaves nothing to map them by.
  if (word.length !== raw.length) return null;
  let cuts: number[] | null = null;
  let prevScript = 0;
  let prevLower = false;
  for (let i = 0; i < word.length; i++) {
    const script = charFlags(word.charCodeAt(i)) & (LATIN | CYRILLIC);
    const ch = raw[i]!;
    const upper = tagged && ch !== ch.toLowerCase();
    if ((script !== 0 && prevScript !== 0 && script !== prevScript) || (upper && prevLower)) (cuts ??= []).push(i);
    if (script !== 0) prevScript = script;
    prevLower = tagged && ch !== ch.toUpperCase();
  }
  if (cuts === null) return null;
  const bounds = [0, ...cuts, word.length];
  const parts: SubWord[] = [];
  for (let k = 0; k + 1 < bounds.length; k++) {
    const from = bounds[k]!;
    const to = bounds[k + 1]!;
    parts.push({ from, to, info: infoOf(word.slice(from, to)) });
  }
  return parts;
}

function stemOf(info: WordInfo, lang: number): string {
  let stem = info.stems[lang];
  if (stem === undefined) info.stems[lang] = stem = stemWord(info.key, LANGS[lang]!);
  return stem;
}

// ---- Query side: the syntax tree ---------------------------------------------------------------------------

interface TermNode {
  kind: 'term';
  column: number;
  key: string;
  first: number;
  stems: { lang: number; stem: string; head: string }[];
  /** A Cyrillic abbreviation (мтс, втб): its case endings are written straight onto it (МТСа, МТСу, МТСом). */
  abbreviation: boolean;
}
interface PrefixNode {
  kind: 'prefix';
  column: number;
  key: string;
}
interface PhraseNode {
  kind: 'phrase';
  column: number;
  words: string[];
}
interface NearNode {
  kind: 'near';
  column: number;
  distance: number;
  left: Node;
  right: Node;
}
interface BoolNode {
  kind: 'and' | 'or';
  column: number;
  children: Node[];
}
interface NotNode {
  kind: 'not';
  column: number;
  child: Node;
}
type Node = TermNode | PrefixNode | PhraseNode | NearNode | BoolNode | NotNode;

// Letters only Kazakh has: such a word gets the Kazakh suffix rules alone, Snowball Russian would mangle it.
const KAZAKH_ONLY = /[әіңғүұқөһ]/;

// A short Cyrillic word without a vowel is read letter by letter (МТС, ВТБ), and Russian declines it by gluing the
// endings on: МТСа, МТСу, МТСом, МТСе, МТСы, МТСов… Snowball finds no ending in a word without a vowel, so these
// are matched here, and only these: "мтсклад" is another word.
const ABBREVIATION = /^[бвгджзйклмнпрстфхцчшщ]{2,5}$/;
const ABBREVIATION_ENDINGS = new Set(['а', 'у', 'ом', 'е', 'ы', 'ов', 'ам', 'ами', 'ах']);

function termNode(word: string, column: number): TermNode {
  const key = foldLetters(word);
  let scripts = 0;
  for (let i = 0; i < word.length; i++) scripts |= charFlags(word.charCodeAt(i)) & (LATIN | CYRILLIC);
  // Russian- and English-looking names get the Kazakh/Uzbek endings too: "банкке", "каспиде", "Paymeda".
  const langs = scripts === CYRILLIC ? (KAZAKH_ONLY.test(word) ? [KK] : [RU, KK]) : scripts === LATIN ? [EN, UZ] : [];
  const stems = langs.map((lang) => {
    const stem = stemWord(key, LANGS[lang]!);
    return { lang, stem, head: stem.slice(0, -1) };
  });
  return { kind: 'term', column, key, first: key.charCodeAt(0), stems, abbreviation: ABBREVIATION.test(key) };
}

/** The words of a piece of query text, folded as text words are. */
function queryWords(text: string): string[] {
  return tokenize(text).map((t) => t.entry.word);
}

/** A keyword as configured: one word is a term, several an exact phrase; null when it has no word at all. */
// A keyword of several words matches their word forms side by side ("Жетысу Маркете" for жетысу маркет):
// a brand name is declined like any noun phrase, which an exact phrase would miss.
function keywordNode(keyword: string, column: number): Node | null {
  const words = queryWords(keyword);
  if (words.length === 0) return null;
  return words
    .map((word): Node => termNode(word, column))
    .reduce((left, right) => ({ kind: 'near', column, distance: 0, left, right }));
}

// ---- Lexer -------------------------------------------------------------------------------------------------

type Lexeme =
  | { t: 'word' | 'phrase'; column: number; text: string }
  | { t: '(' | ')' | 'end'; column: number }
  | { t: 'and' | 'or' | 'not' | '-'; column: number; raw: string }
  | { t: 'near'; column: number; raw: string; distance: number };

type Operator = Extract<Lexeme, { raw: string }>;

const CLOSING_QUOTE = new Map([['"', '"'], ['“', '”'], ['«', '»'], ['„', '“']]);
const SPACE = /\s/;

function lex(source: string): Lexeme[] {
  const out: Lexeme[] = [];
  let i = 0;
  while (i < source.length) {
    const ch = source[i]!;
    const column = i + 1;
    if (SPACE.test(ch)) {
      i++;
    } else if (ch === '(' || ch === ')') {
      out.push({ t: ch, column });
      i++;
    } else if (CLOSING_QUOTE.has(ch)) {
      const closing = CLOSING_QUOTE.get(ch)!;
      const close = source.indexOf(closing, i + 1);
      if (close < 0) throw new QuerySyntaxError(column, `unclosed quote: the phrase started here needs a closing ${closing}`);
      out.push({ t: 'phrase', column, text: source.slice(i + 1, close) });
      i = close + 1;
      if (source[i] === '*') throw new QuerySyntaxError(i + 1, '"*" goes at the end of a single word, not a phrase');
    } else if (ch === '-') {
      const next = source[i + 1];
      if (next === undefined || SPACE.test(next) || next === ')') {
        throw new QuerySyntaxError(column, '"-" needs a word right after it, e.g. -casino');
      }
      out.push({ t: '-', column, raw: '-' });
      i++;
    } else {
      let end = i;
      while (end < source.length && !SPACE.test(source[end]!) && source[end] !== '(' && source[end] !== ')' && !CLOSING_QUOTE.has(source[end]!)) end++;
      out.push(wordLexeme(source.slice(i, end), column));
      i = end;
    }
  }
  out.push({ t: 'end', column: source.length + 1 });
  return out;
}

function wordLexeme(text: string, column: number): Lexeme {
  const upper = text.toUpperCase();
  if (upper === 'AND') return { t: 'and', column, raw: upper };
  if (upper === 'OR') return { t: 'or', column, raw: upper };
  if (upper === 'NOT') return { t: 'not', column, raw: upper };
  if (upper === 'NEAR' || upper.startsWith('NEAR/')) {
    const distance = /^NEAR\/(\d+)$/.exec(upper)?.[1];
    if (distance === undefined) throw new QuerySyntaxError(column, 'NEAR needs a distance, e.g. NEAR/3');
    if (Number(distance) > MAX_NEAR) throw new QuerySyntaxError(column, `NEAR/${distance}: the distance is at most ${MAX_NEAR} words`);
    return { t: 'near', column, raw: `NEAR/${Number(distance)}`, distance: Number(distance) };
  }
  return { t: 'word', column, text };
}

// ---- Parser ------------------------------------------------------------------------------------------------

class Parser {
  private pos = 0;
  /** Levels of the syntax tree open around the current position: groups, NOTs and NEARs. */
  private depth = 0;
  constructor(private readonly lexemes: Lexeme[]) {}

  /** Opens one more level of the tree at `column`, refusing a query deeper than MAX_QUERY_DEPTH. */
  private enter(column: number): void {
    if (++this.depth > MAX_QUERY_DEPTH) {
      throw new QuerySyntaxError(column, `nesting deeper than ${MAX_QUERY_DEPTH} levels (parentheses, NOTs and NEARs inside each other)`);
    }
  }

  parse(): Node {
    if (this.peek().t === 'end') throw new QuerySyntaxError(1, 'empty query');
    const node = this.or(null);
    const rest = this.peek();
    if (rest.t === ')') throw new QuerySyntaxError(rest.column, '")" has no matching "("');
    requirePositive(node);
    return node;
  }

  private peek(): Lexeme {
    return this.lexemes[this.pos]!;
  }

  private next(): Lexeme {
    return this.lexemes[this.pos++]!;
  }

  private or(after: Operator | null): Node {
    const children = [this.and(after)];
    while (this.peek().t === 'or') {
      const op = this.next() as Operator;
      children.push(this.and(op));
    }
    return children.length === 1 ? children[0]! : { kind: 'or', column: children[0]!.column, children };
  }

  private and(after: Operator | null): Node {
    const children = [this.near(after)];
    for (;;) {
      const t = this.peek().t;
      if (t === 'and') {
        const op = this.next() as Operator;
        children.push(this.near(op));
      } else if (t === 'word' || t === 'phrase' || t === '(' || t === 'not' || t === '-') {
        children.push(this.near(null));
      } else {
        break;
      }
    }
    return children.length === 1 ? children[0]! : { kind: 'and', column: children[0]!.column, children };
  }

  private near(after: Operator | null): Node {
    const outer = this.depth;
    let left = this.unary(after);
    while (this.peek().t === 'near') {
      const op = this.next() as Extract<Lexeme, { t: 'near' }>;
      // A chain a NEAR b NEAR c nests to the left: each NEAR is one more level above the first operand.
      this.enter(op.column);
      const right = this.unary(op);
      if (!positional(left) || !positional(right)) {
        throw new QuerySyntaxError(op.column, `${op.raw} joins words, phrases or prefixes (or OR-groups of them), not NOT or AND`);
      }
      left = { kind: 'near', column: left.column, distance: op.distance, left, right };
    }
    this.depth = outer;
    return left;
  }

  private unary(after: Operator | null): Node {
    const t = this.peek();
    if (t.t === 'not' || t.t === '-') {
      this.next();
      this.enter(t.column);
      const child = this.unary(t);
      this.depth--;
      return { kind: 'not', column: t.column, child };
    }
    return this.primary(after);
  }

  private primary(after: Operator | null): Node {
    const t = this.next();
    switch (t.t) {
      case 'word':
        return wordNode(t.text, t.column);
      case 'phrase': {
        const words = queryWords(t.text);
        if (words.length === 0) throw new QuerySyntaxError(t.column, 'empty phrase: put words between the quotes');
        return { kind: 'phrase', column: t.column, words };
      }
      case '(': {
        if (this.peek().t === ')') throw new QuerySyntaxError(t.column, 'empty parentheses');
        this.enter(t.column);
        const inner = this.or(null);
        this.depth--;
        const close = this.next();
        if (close.t !== ')') throw new QuerySyntaxError(close.column, `expected ")" to close "(" at column ${t.column}`);
        return inner;
      }
      case 'and':
      case 'or':
      case 'near':
        throw new QuerySyntaxError(t.column, after ? `"${t.raw}" cannot follow "${after.raw}"` : `"${t.raw}" needs something before it`);
      default:
        // `end` or `)`: reached only right after an operator.
        throw new QuerySyntaxError(after?.column ?? t.column, `"${after?.raw ?? t.t}" needs something after it`);
    }
  }
}

function wordNode(text: string, column: number): Node {
  const star = text.indexOf('*');
  if (star >= 0 && star !== text.length - 1) throw new QuerySyntaxError(column + star, '"*" only goes at the end of a word, e.g. kasp*');
  if (star < 0) {
    const node = keywordNode(text, column);
    if (node === null) throw new QuerySyntaxError(column, `"${text}" has no letters or digits to match`);
    return node;
  }
  const words = queryWords(text.slice(0, -1));
  if (words.length !== 1) throw new QuerySyntaxError(column, 'a prefix is one word followed by "*", e.g. kasp*');
  const key = foldLetters(words[0]!);
  if (key.length < MIN_PREFIX) throw new QuerySyntaxError(column, `a prefix needs at least ${MIN_PREFIX} letters before "*"`);
  return { kind: 'prefix', column, key };
}

/** Nodes that match at positions in the text, so NEAR can measure between them. */
function positional(node: Node): boolean {
  if (node.kind === 'or') return node.children.every(positional);
  return node.kind !== 'and' && node.kind !== 'not';
}

function positive(node: Node): boolean {
  if (node.kind === 'not') return false;
  if (node.kind === 'and') return node.children.some(positive);
  if (node.kind === 'or') return node.children.every(positive);
  return true;
}

// A query must name something to find: NOT alone, or one side of an OR being only NOT, would match
// nearly every text crawled.
function requirePositive(node: Node): void {
  // OR sides first: their message is the more precise one.
  checkOrSides(node);
  if (!positive(node)) {
    throw new QuerySyntaxError(firstNot(node), 'NOT alone matches nothing in particular: add something to find, e.g. kaspi NOT casino');
  }
}

function checkOrSides(node: Node): void {
  if (node.kind === 'or') {
    for (const child of node.children) {
      if (!positive(child)) throw new QuerySyntaxError(firstNot(child), 'each side of OR needs something to find: "a OR NOT b" would match almost everything');
    }
  }
  if (node.kind === 'and' || node.kind === 'or') node.children.forEach(checkOrSides);
  if (node.kind === 'not') checkOrSides(node.child);
}

function firstNot(node: Node): number {
  if (node.kind === 'and' || node.kind === 'or') {
    for (const child of node.children) if (!positive(child)) return firstNot(child);
  }
  return node.column;
}

// ---- Matching ----------------------------------------------------------------------------------------------

/** Where an operand matched: tokens from..to (inclusive) and the spans to highlight. */
interface Occurrence {
  from: number;
  to: number;
  spans: Highlight[];
}

function termMatches(node: TermNode, info: WordInfo): boolean {
  if (info.first !== node.first) return false;
  if (info.key === node.key) return true;
  if (node.abbreviation && info.key.startsWith(node.key) && ABBREVIATION_ENDINGS.has(info.key.slice(node.key.length))) return true;
  // A stem is the word minus an ending (Porter2 may also change the stem's last letter: happy → happi), so a
  // word that does not start with the stem's head cannot have that stem: no need to stem it. Stemming an
  // unseen word costs microseconds; this keeps it to the few words that may match.
  for (const { lang, stem, head } of node.stems) if (info.key.startsWith(head) && stemOf(info, lang) === stem) return true;
  return false;
}

function occurrences(node: Node, text: string, tokens: Token[]): Occurrence[] {
  const found: Occurrence[] = [];
  switch (node.kind) {
    case 'term':
    case 'prefix': {
      const test = node.kind === 'term' ? (info: WordInfo) => termMatches(node, info) : (info: WordInfo) => info.key.startsWith(node.key);
      for (let i = 0; i < tokens.length; i++) {
        const token = tokens[i]!;
        if (test(token.entry.info)) {
          found.push({ from: i, to: i, spans: [{ start: token.start, end: token.end }] });
          continue;
        }
        const parts = partsOf(token, text);
        if (parts === null) continue;
        for (const part of parts) {
          if (test(part.info)) found.push({ from: i, to: i, spans: [{ start: token.start + part.from, end: token.start + part.to }] });
        }
      }
      return found;
    }
    case 'phrase': {
      const { words } = node;
      for (let i = 0; i + words.length <= tokens.length; i++) {
        let k = 0;
        while (k < words.length && tokens[i + k]!.entry.word === words[k]) k++;
        if (k === words.length) {
          const last = i + words.length - 1;
          found.push({ from: i, to: last, spans: [{ start: tokens[i]!.start, end: tokens[last]!.end }] });
        }
      }
      return found;
    }
    case 'or':
      for (const child of node.children) found.push(...occurrences(child, text, tokens));
      return found;
    case 'near': {
      const left = occurrences(node.left, text, tokens);
      if (left.length === 0) return found;
      const right = occurrences(node.right, text, tokens);
      for (const a of left) {
        for (const b of right) {
          // Words strictly between the two; overlapping operands (one word matching both) do not count.
          const gap = a.to < b.from ? b.from - a.to - 1 : b.to < a.from ? a.from - b.to - 1 : -1;
          if (gap >= 0 && gap <= node.distance) {
            found.push({ from: Math.min(a.from, b.from), to: Math.max(a.to, b.to), spans: [...a.spans, ...b.spans] });
          }
        }
      }
      return found;
    }
    default:
      throw new Error(`a ${node.kind} node has no positions`);
  }
}

function evaluate(node: Node, text: string, tokens: Token[]): Highlight[] | null {
  switch (node.kind) {
    case 'and': {
      const spans: Highlight[] = [];
      for (const child of node.children) {
        const found = evaluate(child, text, tokens);
        if (found === null) return null;
        spans.push(...found);
      }
      return spans;
    }
    case 'or': {
      // Every side is evaluated, so all that matched is highlighted.
      let spans: Highlight[] | null = null;
      for (const child of node.children) {
        const found = evaluate(child, text, tokens);
        if (found !== null) (spans ??= []).push(...found);
      }
      return spans;
    }
    case 'not':
      return evaluate(node.child, text, tokens) === null ? [] : null;
    default: {
      const found = occurrences(node, text, tokens);
      return found.length === 0 ? null : found.flatMap((o) => o.spans);
    }
  }
}

/** Sorted, with overlapping spans merged. */
function mergeSpans(spans: readonly Highlight[]): Highlight[] {
  const sorted = [...spans].sort((a, b) => a.start - b.start || a.end - b.end);
  const merged: Highlight[] = [];
  for (const span of sorted) {
    const last = merged.at(-1);
    if (last && span.start < last.end) last.end = Math.max(last.end, span.end);
    else merged.push({ start: span.start, end: span.end });
  }
  return merged;
}

function compiled(source: string, root: Node): CompiledQuery {
  return {
    source,
    match(text) {
      const spans = evaluate(root, text, tokenize(text));
      return spans && mergeSpans(spans);
    },
  };
}

export function compileQuery(source: string): CompiledQuery {
  return compiled(source, new Parser(lex(source)).parse());
}

/**
 * The brand's effective query: its own query if set, else OR of its keywords and aliases, each as an exact
 * phrase when it has several words, else a term. Null counts as not set (the brands table stores null).
 */
export function brandQuery(brand: {
  query?: string | null | undefined;
  keywords: readonly string[];
  aliases?: readonly string[] | null | undefined;
}): CompiledQuery {
  if (brand.query && brand.query.trim() !== '') return compileQuery(brand.query);
  const children: Node[] = [];
  const shown: string[] = [];
  for (const name of [...brand.keywords, ...(brand.aliases ?? [])]) {
    const node = keywordNode(name, 1);
    if (node === null) continue;
    children.push(node);
    shown.push(node.kind === 'near' ? `(${queryWords(name).join(' NEAR/0 ')})` : name.trim());
  }
  // Without a usable keyword this is an OR of nothing, which matches nothing.
  return compiled(shown.join(' OR '), { kind: 'or', column: 1, children });
}

/**
 * The text with each span wrapped by `mark`, by default in [[double brackets]]: plain ASCII that texts
 * rarely contain, unlike «…», which Russian uses as quotes. Overlapping spans are merged first.
 */
export function highlight(text: string, spans: Highlight[], mark: (s: string) => string = (s) => `[[${s}]]`): string {
  let out = '';
  let at = 0;
  for (const { start, end } of mergeSpans(spans)) {
    out += text.slice(at, start) + mark(text.slice(start, end));
    at = end;
  }
  return out + text.slice(at);
}

/**
 * Matches a mention as ingestion sees it, title and text together, and gives the highlights of each
 * separately (offsets into the title and into the text); null when it does not match.
 */
export function matchTitleAndText(query: CompiledQuery, title: string | null, text: string): { title: Highlight[]; text: Highlight[] } | null {
  if (!title) {
    const spans = query.match(text);
    return spans && { title: [], text: spans };
  }
  const spans = query.match(`${title}\n${text}`);
  if (spans === null) return null;
  const offset = title.length + 1;
  const inTitle: Highlight[] = [];
  const inText: Highlight[] = [];
  for (const { start, end } of spans) {
    // A phrase may run from the title's last words into the text's first: split it at the line break.
    if (start < title.length) inTitle.push({ start, end: Math.min(end, title.length) });
    if (end > offset) inText.push({ start: Math.max(start, offset) - offset, end: end - offset });
  }
  return { title: inTitle, text: inText };
}

/** A query in the brand query language, as a config field: a syntax error names its column. */
export const querySourceSchema = z.string().superRefine((source, ctx) => {
  try {
    compileQuery(source);
  } catch (err) {
    if (!(err instanceof QuerySyntaxError)) throw err;
    ctx.addIssue({ code: 'custom', message: `query syntax: ${err.message}` });
  }
});
