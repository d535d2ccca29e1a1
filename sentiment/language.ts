import { franc, francAll } from 'franc';

export type Lang = 'ru' | 'kk' | 'uz' | 'en' | 'other';

const NOISE = /(?:https?:\/\/|www\.)\S*|@[\p{L}\p{N}_.]+|#/gu;
const WORD = /[\p{L}'ʻʼ‘’`]+/gu;
const APOSTROPHES = /[ʻʼ‘’`]/gu;

const UZ_CYRILLIC = /[ўҳ]/u;
const KK_CYRILLIC = /[әіңүұөһ]/u;
const QAF_GHAYN = /[қғ]/u;
// Uzbek Cyrillic has no ы; Kazakh uses it everywhere, so it separates қ/ғ texts typed without ә, і, ң...
const KK_YERU = /ы/u;
const UKRAINIAN = /[їєґ]/u;
const KK_LATIN_LETTERS = /[äöüğışñūáǵńóúý]/u;
const UZ_APOSTROPHE = /[og]'\p{L}/u;
const EN_CLITIC = /'(?:s|t|d|ll|re|ve|m)$/u;
const UZ_Q = /q(?!u)/u;
const IRISH_NAME = /^[OoGg]['ʻʼ‘’`]\p{Lu}\p{Ll}/u;
const CYRILLIC_LETTER = /\p{Script=Cyrillic}/gu;
const LATIN_LETTER = /\p{Script=Latin}/gu;
const ANY_LETTER = /\p{L}/u;

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
const FRANC_OPTIONS = {
  only: ['rus', 'kaz', 'uzn', 'eng', 'deu', 'fra', 'spa', 'por', 'ita', 'nld', 'tur', 'pol'],
  minLength: 20,
};
const FRANC_TO_LANG: Record<string, Lang> = { rus: 'ru', kaz: 'kk', uzn: 'uz', eng: 'en' };
const FRANC_MAX_CHARS = 400;
const EN_SHARE = 0.3;
const CYRILLIC_RU_MARGIN = 0.7;

export function detectLanguage(text: string): Lang {
  const clean = text.replace(NOISE, ' ');
  if (!ANY_LETTER.test(clean)) return 'other';
  const lower = clean.toLowerCase();

  const cyrillic = countMatches(clean, CYRILLIC_LETTER);
  const latin = countMatches(clean, LATIN_LETTER);
  if (cyrillic === 0 && latin === 0) return 'other';

  if (UKRAINIAN.test(lower)) return 'other';
  // ә, ң, ү, ө... never occur in Uzbek, so they win over ў (Karakalpak-style Kazakh typing uses both).
  if (KK_CYRILLIC.test(lower)) return 'kk';
  if (UZ_CYRILLIC.test(lower)) return 'uz';

  const words = lower.replace(APOSTROPHES, "'").match(WORD) ?? [];
  if (cyrillic >= latin) return detectCyrillic(clean, lower, words);
  return detectLatin(clean, lower, words);
}

function detectCyrillic(clean: string, lower: string, words: string[]): Lang {
  const kkWords = countIn(words, KK_CYRILLIC_WORDS);
  const uzWords = countIn(words, UZ_CYRILLIC_WORDS);
  if (QAF_GHAYN.test(lower)) return (KK_YERU.test(lower) || kkWords > 0) && kkWords >= uzWords ? 'kk' : 'uz';
  if (kkWords > 0 || uzWords > 0) return kkWords >= uzWords ? 'kk' : 'uz';
  // Without the letters franc's kaz/uzn trigrams often beat Russian on short Russian texts: demand a clear lead.
  const ranked = francAll(clean.slice(0, FRANC_MAX_CHARS), FRANC_OPTIONS);
  const [top] = ranked;
  if (top === undefined || (top[0] !== 'kaz' && top[0] !== 'uzn')) return 'ru';
  const rus = ranked.find(([code]) => code === 'rus')?.[1] ?? 0;
  return rus <= CYRILLIC_RU_MARGIN ? FRANC_TO_LANG[top[0]]! : 'ru';
}

function detectLatin(clean: string, lower: string, words: string[]): Lang {
  let kk = countIn(words, KK_LATIN_WORDS);
  if (kk > 0 && KK_LATIN_LETTERS.test(lower)) kk += 1;
  let uz = countIn(words, UZ_LATIN_WORDS);
  for (const word of clean.match(WORD) ?? []) {
    const lowerWord = word.toLowerCase().replace(APOSTROPHES, "'");
    if (lowerWord === "o'clock" || EN_CLITIC.test(lowerWord) || IRISH_NAME.test(word)) continue;
    if (UZ_APOSTROPHE.test(lowerWord)) uz += 1;
  }
  if (kk > 0 && kk >= uz) return 'kk';
  if (uz > 0) return 'uz';

  const english = countIn(words, EN_WORDS) / words.length;
  const guess = franc(clean.slice(0, FRANC_MAX_CHARS), FRANC_OPTIONS);
  if (guess === 'eng' || english >= EN_SHARE) return 'en';
  if (guess === 'uzn' || words.some((w) => UZ_Q.test(w))) return 'uz';
  return 'other';
}

function countIn(words: string[], set: Set<string>): number {
  let n = 0;
  for (const w of words) if (set.has(w)) n += 1;
  return n;
}

function countMatches(text: string, pattern: RegExp): number {
  pattern.lastIndex = 0;
  let n = 0;
  while (pattern.exec(text) !== null) n += 1;
  return n;
}
