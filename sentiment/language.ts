// franc's trigram models, scored here directly: franc itself re-detects the script with ~30 regex passes and
// builds object dictionaries per call, which dominated ingestion time. Same models, same distance, same order.
import { data as FRANC_DATA } from 'franc/data.js';
import { expressions as FRANC_SCRIPTS } from 'franc/expressions.js';

export const LANGS = ['ru', 'kk', 'uz', 'en', 'other'] as const;
export type Lang = (typeof LANGS)[number];

const NOISE = /(?:https?:\/\/|www\.)\S*|@[\p{L}\p{N}_.]+|#/gu;
const APOSTROPHES = /[ʻʼ‘’`]/gu;

const UZ_APOSTROPHE = /[og]'\p{L}/u;
const EN_CLITIC = /'(?:s|t|d|ll|re|ve|m)$/u;
const IRISH_NAME = /^[OoGg]['ʻʼ‘’`]\p{Lu}\p{Ll}/u;

// Kazakh typed on a Russian keyboard; words that are also Russian forms (осы, кате, берем, мал) stay out.
const KK_CYRILLIC_WORDS = new Set([
  'маған', 'маган', 'жоқ', 'жок', 'екен', 'керек', 'неге', 'емес', 'жақсы', 'жаксы', 'ақша', 'қазақша',
  'казакша', 'рахмет', 'ракмет', 'керемет', 'оте', 'бул', 'жане', 'ушин', 'туралы', 'болады', 'ойын', 'ойыны',
  'жаман', 'кызык', 'калай', 'кандай', 'тамаша', 'кушти', 'шыгады', 'болды', 'мынау', 'ашылмайды', 'унады',
  'унамады', 'жумыс', 'бала', 'жастамын',
]);
const UZ_CYRILLIC_WORDS = new Set([
  'ва', 'учун', 'билан', 'жуда', 'яхши', 'эмас', 'керак', 'рахмат', 'экан', 'менга', 'лекин', 'ёмон', 'зур',
  'ишлаяпти', 'ишламаяпти', 'қилинг', 'қиламан', 'киламан', 'тавсия', 'маслахат', 'нарса', 'хеч', 'пулига',
]);
const KK_LATIN_WORDS = new Set([
  'ote', 'öte', 'óte', 'keremet', 'jaqsy', 'jaqsı', 'jaqsi', 'jaksy', 'jaksi', 'zhaksy', 'zhaqsy', 'jakhsy',
  'eken', 'unady', 'unaidy', 'ūnaidy', 'únady', 'magan', "mag'an", 'mağan', 'maǵan', 'joq', 'zhok', 'qazaqsha',
  'qazaqşa', 'kazaksha', 'rahmet', 'rakhmet', 'raqmet', 'kushti', 'küşti', 'jaman', 'zhaman', 'jäne', 'jáne',
  'emes', 'kerek', 'bolady', 'qalai', 'nege', 'sizder', 'ushin', 'üşin', 'úshin', 'istemeidi', 'istemeydi',
  'qosymsha', 'kosymsha', 'qosymşa', 'qoldanba', 'tüsinikti', 'tusinikti', 'bolmaidy', 'qazaq',
]);
const UZ_LATIN_WORDS = new Set([
  'juda', 'judayam', 'yaxshi', 'yahshi', 'yaxshiroq', 'emas', 'uchun', 'bilan', 'rahmat', 'raxmat', 'kerak',
  'lekin', 'ilova', 'ilovani', 'ilovadan', 'dastur', 'dasturni', 'yomon', 'ajoyib', 'qanday', 'nega', 'iltimos',
  'mumkin', 'hech', 'narsa', 'menga', 'sizga', 'tavsiya', 'maslahat', 'sifatsiz', 'ekan', 'hamma', 'yoqdi',
  "zo'r", "yo'q", 'ishlamayapti', 'ishlamadi', 'ishlaydi', 'mahsulot', 'narxi', 'qiling', 'qilaman', 'kilaman',
  "bo'ladi", "bo'lmadi", "ko'p", "o'yin", 'boshqa', 'qulay', 'endi',
]);
const EN_WORDS = new Set([
  'the', 'a', 'an', 'and', 'or', 'but', 'is', 'are', 'was', 'were', 'be', 'been', 'i', 'you', 'he', 'she', 'it',
  'we', 'they', 'me', 'my', 'your', 'our', 'this', 'that', 'to', 'of', 'in', 'on', 'for', 'with', 'at', 'by',
  'from', 'not', 'no', 'yes', 'do', 'does', 'did', "don't", "can't", "won't", "it's", "i'm", 'have', 'has',
  'had', 'will', 'would', 'can', 'could', 'so', 'very', 'too', 'just', 'all', 'what', 'why', 'how', 'when',
  'good', 'bad', 'great', 'love', 'hate', 'thanks', 'thank', 'please', 'app', 'service', 'awesome', 'terrible',
  'best', 'worst', 'ok', 'okay', 'nice', 'cool', 'wow', 'lol', 'fine', 'happy', 'sad', 'again', 'never',
  'works', 'work', 'broken', 'help', 'order', 'delivery', 'today', 'still', 'really', 'well', 'tomorrow',
  'day', 'see', 'go', 'get', 'going', 'who', 'if', 'there', 'some', 'one', 'may', 'want', 'know', 'think', 'new',
  'about', 'out', 'up', 'like', 'his', 'her', 'their', 'them', 'him', 'us', 'am', 'as', 'then', 'than',
  'sunday', 'monday', 'friday', 'saturday', 'night', 'time', 'first', 'next', 'last', 'back', 'now', 'here',
]);

// franc only sees Latin decoys so German or French text stops being forced into English or Uzbek.
const FRANC_ONLY = ['rus', 'kaz', 'uzn', 'eng', 'deu', 'fra', 'spa', 'por', 'ita', 'nld', 'tur', 'pol'];
const FRANC_MIN_LENGTH = 20;
const FRANC_MAX_DIFFERENCE = 300;
const FRANC_TO_LANG: Record<string, Lang> = { rus: 'ru', kaz: 'kk', uzn: 'uz', eng: 'en' };
const FRANC_MAX_CHARS = 400;
const EN_SHARE = 0.3;
const CYRILLIC_RU_MARGIN = 0.7;

// Per UTF-16 unit: script/letter bits (filled lazily from the Unicode regexes) and marker letters (fixed).
const KNOWN = 1, LETTER = 2, LATIN = 4, CYRILLIC = 8, FOREIGN_LETTER = 2048;
const UKRAINIAN = 16, KK_CYRILLIC = 32, UZ_CYRILLIC = 64, QAF_GHAYN = 128, KK_YERU = 256, KK_LATIN = 512, APOSTROPHE = 1024;
const CHAR_INFO = new Uint16Array(0x10000);
const ASTRAL_INFO = new Map<number, number>();
const IS_LETTER = /^\p{L}$/u;
const IS_LATIN = /^\p{Script=Latin}$/u;
const IS_CYRILLIC = /^\p{Script=Cyrillic}$/u;
// Ukrainian letters → other; ә, ң, ү, ө... never occur in Uzbek, so they win over ў (Karakalpak-style Kazakh
// typing uses both); Uzbek Cyrillic has no ы while Kazakh uses it everywhere, which separates қ/ғ texts.
for (const [letters, flag] of [
  ['їєґ', UKRAINIAN], ['әіңүұөһ', KK_CYRILLIC], ['ўҳ', UZ_CYRILLIC], ['қғ', QAF_GHAYN], ['ы', KK_YERU],
  ['äöüğışñūáǵńóúý', KK_LATIN], ['ʻʼ‘’`', APOSTROPHE],
] as const) {
  for (const ch of letters) CHAR_INFO[ch.charCodeAt(0)]! |= flag;
}

function classify(ch: string): number {
  const script = IS_LATIN.test(ch) ? LATIN : IS_CYRILLIC.test(ch) ? CYRILLIC : 0;
  const letter = IS_LETTER.test(ch) ? LETTER | (script === 0 ? FOREIGN_LETTER : 0) : 0;
  return KNOWN | letter | script;
}

function infoAt(c: number): number {
  let info = CHAR_INFO[c]!;
  if ((info & KNOWN) === 0) CHAR_INFO[c] = info |= classify(String.fromCharCode(c));
  return info;
}

function astralInfo(cp: number): number {
  let info = ASTRAL_INFO.get(cp);
  if (info === undefined) ASTRAL_INFO.set(cp, (info = classify(String.fromCodePoint(cp))));
  return info;
}

function isHighSurrogate(s: string, i: number, c: number): boolean {
  if (c < 0xd800 || c > 0xdbff || i + 1 >= s.length) return false;
  const next = s.charCodeAt(i + 1);
  return next >= 0xdc00 && next <= 0xdfff;
}

// One pass over the text: script counts plus every marker letter, instead of a regex pass per question.
let scanLatin = 0, scanCyrillic = 0, scanFlags = 0, scanUzQ = false;
function scan(s: string): void {
  let latin = 0, cyrillic = 0, flags = 0, uzQ = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let info: number;
    if (c < 0xd800 || c > 0xdfff) info = infoAt(c);
    else if (isHighSurrogate(s, i, c)) info = astralInfo(s.codePointAt(i++)!);
    else info = KNOWN;
    flags |= info;
    if (info & LATIN) {
      latin += 1;
      // "q" not followed by "u" marks Uzbek Latin (qanday, qiling) among otherwise undecided texts.
      if (c === 113 && s.charCodeAt(i + 1) !== 117) uzQ = true;
    } else if (info & CYRILLIC) cyrillic += 1;
  }
  scanLatin = latin;
  scanCyrillic = cyrillic;
  scanFlags = flags;
  scanUzQ = uzQ;
}

export function detectLanguage(text: string): Lang {
  const clean = text.replace(NOISE, ' ');
  const lower = clean.toLowerCase();
  scan(lower);
  const cyrillic = scanCyrillic, latin = scanLatin, flags = scanFlags;
  if ((flags & LETTER) === 0 || (cyrillic === 0 && latin === 0)) return 'other';

  if (flags & UKRAINIAN) return 'other';
  if (flags & KK_CYRILLIC) return 'kk';
  if (flags & UZ_CYRILLIC) return 'uz';

  const words = flags & APOSTROPHE ? lower.replace(APOSTROPHES, "'") : lower;
  if (cyrillic >= latin) return detectCyrillic(clean, words, flags);
  return detectLatin(clean, words, flags);
}

function detectCyrillic(clean: string, words: string, flags: number): Lang {
  tallyWords(words, KK_CYRILLIC_WORDS, UZ_CYRILLIC_WORDS, null, null);
  const kkWords = tallyA, uzWords = tallyB;
  if (flags & QAF_GHAYN) return ((flags & KK_YERU) !== 0 || kkWords > 0) && kkWords >= uzWords ? 'kk' : 'uz';
  if (kkWords > 0 || uzWords > 0) return kkWords >= uzWords ? 'kk' : 'uz';
  // Without the letters franc's kaz/uzn trigrams often beat Russian on short Russian texts: demand a clear lead.
  const ranked = rankTrigrams(clean.slice(0, FRANC_MAX_CHARS));
  if (ranked === null) return 'ru';
  const [top] = ranked;
  if (top === undefined || (top[0] !== 'kaz' && top[0] !== 'uzn')) return 'ru';
  const rus = ranked.find(([code]) => code === 'rus')?.[1] ?? 0;
  return rus <= CYRILLIC_RU_MARGIN ? FRANC_TO_LANG[top[0]]! : 'ru';
}

function detectLatin(clean: string, words: string, flags: number): Lang {
  tallyWords(words, KK_LATIN_WORDS, UZ_LATIN_WORDS, EN_WORDS, (flags & APOSTROPHE) !== 0 || words.includes("'") ? clean : null);
  let kk = tallyA;
  if (kk > 0 && (flags & KK_LATIN) !== 0) kk += 1;
  const uz = tallyB + tallyUzApostrophes;
  if (kk > 0 && kk >= uz) return 'kk';
  if (uz > 0) return 'uz';

  // A high share of common English words settles it whatever franc says, so franc is skipped.
  if (tallyC / tallyWordCount >= EN_SHARE) return 'en';
  const uzQ = scanUzQ;
  const ranked = rankTrigrams(clean.slice(0, FRANC_MAX_CHARS));
  const guess = ranked?.[0]?.[0];
  if (guess === 'eng') return 'en';
  if (guess === 'uzn' || uzQ) return 'uz';
  return 'other';
}

const MAX_LISTED_WORD = Math.max(
  ...[KK_CYRILLIC_WORDS, UZ_CYRILLIC_WORDS, KK_LATIN_WORDS, UZ_LATIN_WORDS, EN_WORDS].flatMap((set) => [...set].map((w) => w.length)),
);

// Walks the words (letters and apostrophes) of `s` without building an array of them.
let tallyA = 0, tallyB = 0, tallyC = 0, tallyWordCount = 0, tallyUzApostrophes = 0;
function tallyWords(s: string, a: Set<string>, b: Set<string>, c: Set<string> | null, original: string | null): void {
  let na = 0, nb = 0, nc = 0, count = 0, uzApostrophes = 0;
  // Word checks on the original casing need the lower-cased positions to line up (İ lower-cases to two units).
  const aligned = original !== null && original.length === s.length;
  const n = s.length;
  let start = -1, apostrophe = false;
  for (let i = 0; i <= n; i++) {
    let wordChar = false, width = 1;
    if (i < n) {
      const code = s.charCodeAt(i);
      if (code === 39) wordChar = true;
      else if (code < 0xd800 || code > 0xdfff) wordChar = (infoAt(code) & LETTER) !== 0;
      else if (isHighSurrogate(s, i, code)) {
        wordChar = (astralInfo(s.codePointAt(i)!) & LETTER) !== 0;
        width = 2;
      }
      if (code === 39) apostrophe = true;
    }
    if (wordChar) {
      if (start < 0) start = i;
      i += width - 1;
      continue;
    }
    if (start >= 0) {
      count += 1;
      if (i - start <= MAX_LISTED_WORD) {
        const word = s.slice(start, i);
        if (a.has(word)) na += 1;
        if (b.has(word)) nb += 1;
        if (c !== null && c.has(word)) nc += 1;
      }
      if (aligned && apostrophe && isUzApostropheWord(s.slice(start, i), original.slice(start, i))) uzApostrophes += 1;
      start = -1;
      apostrophe = false;
    }
  }
  if (original !== null && !aligned) uzApostrophes = countUzApostrophes(original);
  tallyA = na;
  tallyB = nb;
  tallyC = nc;
  tallyWordCount = count;
  tallyUzApostrophes = uzApostrophes;
}

function isUzApostropheWord(lowerWord: string, word: string): boolean {
  if (lowerWord === "o'clock" || EN_CLITIC.test(lowerWord) || IRISH_NAME.test(word)) return false;
  return UZ_APOSTROPHE.test(lowerWord);
}

const WORD = /[\p{L}'ʻʼ‘’`]+/gu;
function countUzApostrophes(clean: string): number {
  let n = 0;
  for (const word of clean.match(WORD) ?? []) {
    if (isUzApostropheWord(word.toLowerCase().replace(APOSTROPHES, "'"), word)) n += 1;
  }
  return n;
}

type Ranked = [code: string, score: number][];
type TrigramModel = { codes: string[]; ranks: Map<string, Int16Array> };
const TRIGRAM_MODELS = new Map<string, TrigramModel>();

function trigramModel(script: 'Latin' | 'Cyrillic'): TrigramModel {
  let model = TRIGRAM_MODELS.get(script);
  if (model !== undefined) return model;
  const languages = FRANC_DATA[script]!;
  const codes = Object.keys(languages).filter((code) => FRANC_ONLY.includes(code));
  const ranks = new Map<string, Int16Array>();
  codes.forEach((code, l) => {
    languages[code]!.split('|').forEach((trigram, rank) => {
      let row = ranks.get(trigram);
      if (row === undefined) ranks.set(trigram, (row = new Int16Array(codes.length).fill(-1)));
      if (row[l] === -1) row[l] = rank;
    });
  });
  TRIGRAM_MODELS.set(script, (model = { codes, ranks }));
  return model;
}

// franc's francAll(sample, { only: FRANC_ONLY, minLength: 20 }) for the Latin and Cyrillic models; null is franc's 'und'.
// Exported for the parity test against franc.
export function rankTrigrams(sample: string): Ranked | null {
  if (sample.length < FRANC_MIN_LENGTH) return null;
  scan(sample);
  const script = scanFlags & FOREIGN_LETTER ? topScript(sample) : scanLatin >= scanCyrillic ? 'Latin' : 'Cyrillic';
  if ((script !== 'Latin' && script !== 'Cyrillic') || (scanLatin === 0 && scanCyrillic === 0)) return null;
  const model = trigramModel(script);
  const padded = ` ${sample.replace(/[\u0021-\u0040]+/g, ' ').replace(/\s+/g, ' ').trim().toLowerCase()} `;
  const counts = new Map<string, number>();
  for (let i = 0; i + 3 <= padded.length; i++) {
    const trigram = padded.slice(i, i + 3);
    counts.set(trigram, (counts.get(trigram) ?? 0) + 1);
  }
  const { codes, ranks } = model;
  const distances = new Float64Array(codes.length);
  for (const [trigram, count] of counts) {
    const row = ranks.get(trigram);
    for (let l = 0; l < codes.length; l++) {
      const rank = row === undefined ? -1 : row[l]!;
      distances[l] = distances[l]! + (rank < 0 ? FRANC_MAX_DIFFERENCE : Math.abs(count - rank - 1));
    }
  }
  const ranked: Ranked = codes.map((code, l) => [code, distances[l]!]);
  ranked.sort((x, y) => x[1] - y[1]);
  const min = ranked[0]![1];
  const max = sample.length * FRANC_MAX_DIFFERENCE - min;
  for (const entry of ranked) entry[1] = 1 - (entry[1] - min) / max || 0;
  return ranked;
}

// franc's own script vote (first script with the highest share wins), needed only when other scripts' letters occur.
function topScript(sample: string): string | undefined {
  let top: string | undefined;
  let topCount = -1;
  for (const [script, expression] of Object.entries(FRANC_SCRIPTS)) {
    const count = sample.match(expression)?.length ?? 0;
    if (count > topCount) [top, topCount] = [script, count];
  }
  return topCount > 0 ? top : undefined;
}
