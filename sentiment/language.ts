// franc's trigram models, scored here directly: franc itself re-detects the script with ~30 regex passes and
// builds object dictionaries per call, which dominated ingestion time. Same models, same distance, same order.
import { data as FRANC_DATA } from 'franc/data.js';
import { expressions as FRANC_SCRIPTS } from 'franc/expressions.js';

export const LANGS = ['ru', 'kk', 'uz', 'en', 'other'] as const;
export type Lang = (typeof LANGS)[number];

// Links, handles, $cashtags and HTML entities carry no language; '#' stays so that hashtag words can be told apart.
const NOISE = /(?:https?:\/\/|www\.)\S*|@[\p{L}\p{N}_.]+|\$[A-Za-z][\w.]*|&(?:[a-z]+|#\d+);/gu;
const APOSTROPHES = /[ʻʼ‘’`]/gu;

const UZ_APOSTROPHE = /[og]'\p{L}/u;
const EN_CLITIC = /'(?:s|t|d|ll|re|ve|m)$/u;
const IRISH_NAME = /^[OoGg]['ʻʼ‘’`]\p{Lu}\p{Ll}/u;

// Kazakh typed on a Russian keyboard; words that are also Russian forms (осы, кате, берем, мал) stay out.
const KK_CYRILLIC_WORDS = new Set([
  'маған', 'маган', 'жоқ', 'жок', 'екен', 'керек', 'неге', 'емес', 'жақсы', 'жаксы', 'ақша', 'қазақша',
  'казакша', 'рахмет', 'ракмет', 'керемет', 'оте', 'бул', 'жане', 'ушин', 'туралы', 'болады', 'ойын', 'ойыны',
  'жаман', 'кызык', 'калай', 'кандай', 'тамаша', 'кушти', 'шыгады', 'болды', 'мынау', 'ашылмайды', 'унады',
  'унамады', 'жумыс', 'бала', 'жастамын', 'калайсыз', 'калайсын', 'мыкты', 'кушты', 'ыразы', 'болсын', 'болсун',
  'жатыр', 'жатырмын', 'келмейди', 'келмеиди', 'келмеит', 'истемейди', 'истемеиди', 'истейди', 'корин', 'нашар',
  'бирак', 'менин', 'сенин', 'онын', 'кайда', 'кашан', 'канша', 'енди', 'казир', 'кеше', 'бугин', 'ертен',
  'ештеке', 'ештене', 'ешкандай', 'дурыс', 'сабак', 'акша', 'ойнау', 'сапасыз', 'сапалы', 'жылдам', 'адеми',
  'кетти', 'шыкты', 'тусинбедим', 'тусиниксиз', 'унайды', 'унамайды', 'унатам', 'барлык', 'барлыгы',
  'кайтадан', 'тагы', 'мына', 'анау', 'саган', 'сизге', 'оган', 'ушын', 'болмады', 'болмайды', 'болып', 'болса',
  'деп', 'деген', 'дейди', 'орысша', 'балалар', 'етип',
]);
// Kazakh words that Russian texts use now and then (a name, a typo, a slang word) or that Uzbek shares: evidence,
// not proof.
const KK_CYRILLIC_HINTS = new Set([
  'мен', 'сен', 'ол', 'тек', 'коп', 'жаным', 'бар', 'тез', 'жай', 'пен', 'бен', 'сиз', 'биз',
]);
// Russian function words that Kazakh does not share (не, да, а, он and ты are Kazakh words or particles too).
const RU_WORDS = new Set([
  'и', 'в', 'на', 'я', 'что', 'это', 'с', 'как', 'по', 'так', 'все', 'всё', 'у', 'мне', 'меня', 'за', 'от', 'до',
  'то', 'же', 'бы', 'вы', 'мы', 'она', 'они', 'его', 'её', 'их', 'моя', 'нет', 'есть', 'был', 'была', 'было',
  'если', 'когда', 'вот', 'из', 'для', 'при', 'почему', 'где', 'там', 'тут', 'здесь', 'сейчас', 'можно', 'нужно',
  'надо', 'ничего', 'всех', 'который', 'которые', 'чтобы', 'может', 'будет', 'после', 'теперь', 'пожалуйста',
  'кто', 'чем', 'чего', 'них', 'нас', 'вас', 'вам', 'нам', 'себя', 'свой', 'этот', 'эта', 'эти', 'очень',
  'спасибо', 'хорошо',
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
  'qosymsha', 'kosymsha', 'qosymşa', 'qoldanba', 'tüsinikti', 'tusinikti', 'bolmaidy', 'qazaq', 'qushty', 'kushty',
  'kuwti', 'kuwty', 'ademi', 'ádemi', 'jatyr', 'jatyrmyn', 'qolaily', 'qolaıly', 'yngaily', 'unaıdy', 'tamasha',
  'nashar', 'mıqtı', 'myqty', 'mykty', 'qatty', 'qansha',
]);
const UZ_LATIN_WORDS = new Set([
  'juda', 'judayam', 'yaxshi', 'yahshi', 'yaxshiroq', 'emas', 'uchun', 'bilan', 'rahmat', 'raxmat', 'kerak',
  'lekin', 'ilova', 'ilovani', 'ilovadan', 'dastur', 'dasturni', 'yomon', 'ajoyib', 'qanday', 'nega', 'iltimos',
  'mumkin', 'hech', 'narsa', 'menga', 'sizga', 'tavsiya', 'maslahat', 'sifatsiz', 'ekan', 'hamma', 'yoqdi',
  "zo'r", "yo'q", 'ishlamayapti', 'ishlamadi', 'ishlaydi', 'mahsulot', 'narxi', 'qiling', 'qilaman', 'kilaman',
  "bo'ladi", "bo'lmadi", "ko'p", "o'yin", 'boshqa', 'qulay', 'endi', 'faqat', 'katta', 'sevaman', 'omad', 'chunki',
  'ishlamaydi', 'yoqmadi', 'yoqadi', 'oddiy', 'qilib', 'qilish', 'kulgili', 'qiziqarli', 'qiyin', 'oson', 'ushbu',
  'yoki', 'keyin', 'ammo', 'barcha', 'kabi', 'yangi', 'shuning', 'qayta', 'hatto', 'dahshatli', 'zerikarli',
  'bepul', 'albatta', 'yordam', 'haqida', 'sotib', 'yuklab', 'mavjud', 'uning', 'ular', 'nima', 'necha', "ko'raman",
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
  'these', 'those', 'which', 'where', 'while', 'because', 'should', 'shall', 'must', 'might', 'being', 'its', 'ours',
  'yours', 'yourself', 'myself', 'himself', 'herself', 'itself', 'themselves', 'any', 'every', 'each', 'other',
  'another', 'such', 'only', 'even', 'ever', 'much', 'many', 'more', 'less', 'few', 'own', 'same', 'both',
  'through', 'into', 'onto', 'after', 'before', 'since', 'until', 'without', 'within', 'between', 'against',
  'during', 'off', 'down', 'around', 'away', 'yet', 'though', 'although', 'whether', 'either', 'neither', 'nor',
  'let', 'got', 'gets', 'getting', 'made', 'make', 'makes', 'take', 'takes', 'took', 'comes', 'came', 'gives',
  'gave', 'said', 'says', 'say', 'tell', 'told', 'look', 'looks', 'looking', 'need', 'needs', 'use', 'using', 'used',
  'try', 'trying', 'tried', 'keep', 'keeps', 'feel', 'feels', 'find', 'found', 'buy', 'bought', 'pay', 'paid',
  'call', 'called', 'wait', 'waiting', 'waited', 'fix', 'fixed', 'phone', 'battery', 'screen', 'money', 'customer',
  'account', 'issue', 'issues', 'thing', 'things', 'people', 'year', 'years', 'month', 'days', 'hours', 'something',
  'anything', 'nothing', 'everything', 'someone', 'anyone', 'everyone', 'nobody', 'always', 'sometimes', 'maybe',
  'already', 'almost', 'enough', 'quite', 'pretty', 'right', 'wrong', 'better', 'worse', 'little', 'big', 'small',
  'old', 'young', 'high', 'low', 'easy', 'slow', 'sure', 'true', 'totally', 'actually', 'literally', 'honestly',
  'seriously', 'definitely', 'absolutely', 'amazing', 'awful', 'poor', 'poorly', 'disappointed', 'disappointing',
  'sucks', 'suck', 'yeah', 'yep', 'hello', 'cant', 'wont', 'didnt', 'doesnt', 'isnt', 'ive', 'youre', 'thats',
  'whats', 'news', 'world', 'life', 'house', 'friend', 'friends', 'family', 'watch', 'way', 'woman', 'girl', 'boy',
  'kids', 'food', 'book', 'city', 'quality', 'feature', 'features', 'details', 'wish', 'wishes', 'happen',
  'happened', 'ago', 'tonight', 'morning', 'weekend', 'waste', 'refund', 'replaced', 'replacement', 'charger',
  'recommend', 'recommended', 'cheap', 'expensive', 'worth', 'broke', 'stopped', 'crashes', 'crashing', 'crashed',
]);

// Common English words that are also everyday words in German, Dutch, French, Spanish, Italian, Portuguese, Turkish,
// Polish or Swedish, or international loanwords: they count towards the English share but prove nothing alone.
const EN_SHARED = new Set([
  'a', 'an', 'in', 'so', 'was', 'will', 'am', 'no', 'me', 'on', 'to', 'do', 'i', 'is', 'see', 'fine', 'bad', 'best',
  'we', 'my', 'of', 'at', 'by', 'can', 'just', 'all', 'still', 'her', 'as', 'sad', 'order', 'last', 'ok', 'okay', 'are',
  'cool', 'app', 'lol', 'wow', 'service', 'terrible', 'he', 'die', 'hate', 'or', 'us', 'for', 'be', 'go', 'fix',
  'weekend', 'more', 'after', 'made', 'let', 'use', 'call', 'boy',
]);

// franc only sees Latin decoys so German or French text stops being forced into English or Uzbek.
const FRANC_ONLY = ['rus', 'kaz', 'uzn', 'eng', 'deu', 'fra', 'spa', 'por', 'ita', 'nld', 'tur', 'pol'];
const FRANC_MIN_LENGTH = 20;
const FRANC_MAX_DIFFERENCE = 300;
const FRANC_TO_LANG: Record<string, Lang> = { rus: 'ru', kaz: 'kk', uzn: 'uz', eng: 'en' };
const FRANC_MAX_CHARS = 400;
const EN_SHARE = 0.3;
const ENG_MARGIN = 0.02;
const ENG_WORD_MARGIN = 0.15;
const CYRILLIC_RU_MARGIN = 0.7;

// Per UTF-16 unit: script/letter bits (filled lazily from the Unicode regexes) and marker letters (fixed).
const KNOWN = 1, LETTER = 2, LATIN = 4, CYRILLIC = 8, FOREIGN_LETTER = 2048;
const UKRAINIAN = 16, KK_CYRILLIC = 32, UZ_CYRILLIC = 64, QAF_GHAYN = 128, KK_YERU = 256, KK_LATIN = 512, APOSTROPHE = 1024;
const COMBINING = 4096, G_ACUTE = 8192, DOTLESS_I = 16384, KK_ACUTE = 32768;
const CHAR_INFO = new Uint16Array(0x10000);
const ASTRAL_INFO = new Map<number, number>();
const IS_LETTER = /^\p{L}$/u;
const IS_LATIN = /^\p{Script=Latin}$/u;
const IS_CYRILLIC = /^\p{Script=Cyrillic}$/u;
// Ukrainian letters → other; ә, ң, ү, ө... never occur in Uzbek, so they win over ў (Karakalpak-style Kazakh
// typing uses both); Uzbek Cyrillic has no ы while Kazakh uses it everywhere, which separates қ/ғ texts.
for (const [letters, flag] of [
  ['їєґ', UKRAINIAN], ['әіңүұөһ', KK_CYRILLIC], ['ўҳ', UZ_CYRILLIC], ['қғ', QAF_GHAYN], ['ы', KK_YERU],
  ['äöüğışñūáǵńóúý', KK_LATIN], ['ʻʼ‘’`', APOSTROPHE], ['ǵ', G_ACUTE], ['ı', DOTLESS_I], ['ńáóúý', KK_ACUTE],
] as const) {
  for (const ch of letters) CHAR_INFO[ch.charCodeAt(0)]! |= flag;
}
// Combining accents (o + ◌́ for ó) split words and hide ǵ/ń: such texts are recomposed (NFC) first.
for (let c = 0x300; c <= 0x36f; c++) CHAR_INFO[c]! |= COMBINING;

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
// Letters of #hashtags are counted apart as well (scanTagged*), so that English tags on a Russian text do not
// decide its script.
let scanLatin = 0, scanCyrillic = 0, scanTaggedLatin = 0, scanTaggedCyrillic = 0, scanFlags = 0, scanUzQ = false;
function scan(s: string): void {
  let latin = 0, cyrillic = 0, taggedLatin = 0, taggedCyrillic = 0, flags = 0, uzQ = false, tagged = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let info: number;
    if (c < 0xd800 || c > 0xdfff) info = infoAt(c);
    else if (isHighSurrogate(s, i, c)) info = astralInfo(s.codePointAt(i++)!);
    else info = KNOWN;
    flags |= info;
    if (info & LATIN) {
      latin += 1;
      if (tagged) taggedLatin += 1;
      // "q" not followed by "u" marks Uzbek Latin (qanday, qiling) among otherwise undecided texts.
      if (c === 113 && s.charCodeAt(i + 1) !== 117) uzQ = true;
    } else if (info & CYRILLIC) {
      cyrillic += 1;
      if (tagged) taggedCyrillic += 1;
    } else if (c === 35) tagged = true; // #
    else if (tagged && (info & LETTER) === 0 && c !== 95 && (c < 48 || c > 57)) tagged = false;
  }
  scanLatin = latin;
  scanCyrillic = cyrillic;
  scanTaggedLatin = taggedLatin;
  scanTaggedCyrillic = taggedCyrillic;
  scanFlags = flags;
  scanUzQ = uzQ;
}

export function detectLanguage(text: string): Lang {
  let clean = text.replace(NOISE, ' ');
  let lower = clean.toLowerCase();
  scan(lower);
  if (scanFlags & COMBINING) {
    clean = clean.normalize('NFC');
    lower = clean.toLowerCase();
    scan(lower);
  }
  let cyrillic = scanCyrillic, latin = scanLatin;
  const flags = scanFlags;
  if ((flags & LETTER) === 0 || (cyrillic === 0 && latin === 0)) return 'other';
  if (cyrillic + latin > scanTaggedCyrillic + scanTaggedLatin) {
    cyrillic -= scanTaggedCyrillic;
    latin -= scanTaggedLatin;
  }

  if (flags & UKRAINIAN) return 'other';
  if (flags & KK_CYRILLIC) return 'kk';
  if (flags & UZ_CYRILLIC) return 'uz';

  const words = flags & APOSTROPHE ? lower.replace(APOSTROPHES, "'") : lower;
  if (cyrillic >= latin) return detectCyrillic(clean, words, flags);
  return detectLatin(clean, words, flags);
}

function detectCyrillic(clean: string, words: string, flags: number): Lang {
  tallyWords(words, CYRILLIC_CLASSES, null, true);
  const kkWords = tallyA, uzWords = tallyB, ruWords = tallyC, kkHints = tallyD + tallyKkSpellings;
  // Uzbek Cyrillic almost always has ў or ҳ (handled before): қ/ғ without them is Kazakh unless Uzbek signs (its
  // words, -ди/-ни endings, ё, ъ) outweigh the Kazakh ones (ы, words, spellings).
  if (flags & QAF_GHAYN) {
    const uz = uzWords + tallyUzEndings + (words.includes('ё') ? 1 : 0) + (words.includes('ъ') ? 1 : 0);
    const kk = kkWords + kkHints + (flags & KK_YERU ? 1 : 0);
    return uz > kk ? 'uz' : 'kk';
  }
  if (kkWords > 0 || uzWords > 0) return kkWords >= uzWords ? 'kk' : 'uz';
  // Kazakh typed on a Russian keyboard: its spellings and looser words, unless Russian function words outnumber them.
  if (kkHints > ruWords) return 'kk';
  // A Russian function word and nothing Kazakh or Uzbek: franc's kaz/uzn guesses on such texts are noise.
  if (ruWords > 0) return 'ru';
  // Without the letters franc's kaz/uzn trigrams often beat Russian on short Russian texts: demand a clear lead.
  const ranked = rankTrigrams(clean.slice(0, FRANC_MAX_CHARS));
  if (ranked === null) return 'ru';
  const [top] = ranked;
  if (top === undefined || (top[0] !== 'kaz' && top[0] !== 'uzn')) return 'ru';
  const rus = ranked.find(([code]) => code === 'rus')?.[1] ?? 0;
  return rus <= CYRILLIC_RU_MARGIN ? FRANC_TO_LANG[top[0]]! : 'ru';
}

function detectLatin(clean: string, words: string, flags: number): Lang {
  tallyWords(words, LATIN_CLASSES, (flags & APOSTROPHE) !== 0 || words.includes("'") ? clean : null, false);
  let kk = tallyA;
  if (kk > 0 && (flags & KK_LATIN) !== 0) kk += 1;
  // Kazakh Latin (2018 alphabet): ǵ is Kazakh only; ı is Turkish too (and Uzbek typed on a Turkish keyboard), but
  // neither has ń, á, ó, ú or ý, and Polish or Spanish have those but no ı.
  if (flags & G_ACUTE || (flags & DOTLESS_I && flags & KK_ACUTE)) kk += 2;
  const uz = tallyB + Math.max(0, tallyUzApostrophes - tallyEnClitics);
  if (kk > 0 && kk >= uz) return 'kk';
  if (uz > 0) return 'uz';

  // A high share of common English words settles it whatever franc says, so franc is skipped.
  if (tallyC / tallyWordCount >= EN_SHARE) return 'en';
  const uzQ = scanUzQ;
  const english = tallyC - tallyD + tallyEnClitics;
  const ranked = rankTrigrams(clean.slice(0, FRANC_MAX_CHARS));
  const guess = ranked?.[0]?.[0];
  if (guess === 'eng') return 'en';
  if (guess === 'uzn') return 'uz';
  // A q without u is a weak sign of Uzbek (SQL, Iraq): two plain English words outweigh it.
  if (uzQ && english < 2) return 'uz';
  if (looksEnglish(ranked, english)) return 'en';
  return 'other';
}

// franc's runner-up or close: Latin text with no Kazakh or Uzbek sign is English when its trigrams put English within
// ENG_MARGIN of the top, within ENG_WORD_MARGIN with one plain English word (not one of EN_SHARED; or a clitic), or
// whatever the trigrams say with two. Too short for trigrams, one such word is enough.
function looksEnglish(ranked: Ranked | null, english: number): boolean {
  if (ranked === null) return english >= 1;
  if (english >= 2) return true;
  const eng = ranked.find(([code]) => code === 'eng')?.[1] ?? 0;
  return eng >= 1 - ENG_MARGIN || (english >= 1 && eng >= 1 - ENG_WORD_MARGIN);
}

// One lookup per word: each script's lists folded into a map of class bits (A, B, C, D as tallyWords counts them).
const CLASS_A = 1, CLASS_B = 2, CLASS_C = 4, CLASS_D = 8;
function wordClasses(...lists: [Set<string>, number][]): Map<string, number> {
  const classes = new Map<string, number>();
  for (const [list, bit] of lists) for (const word of list) classes.set(word, (classes.get(word) ?? 0) | bit);
  return classes;
}
const CYRILLIC_CLASSES = wordClasses(
  [KK_CYRILLIC_WORDS, CLASS_A], [UZ_CYRILLIC_WORDS, CLASS_B], [RU_WORDS, CLASS_C], [KK_CYRILLIC_HINTS, CLASS_D],
);
const LATIN_CLASSES = wordClasses(
  [KK_LATIN_WORDS, CLASS_A], [UZ_LATIN_WORDS, CLASS_B], [EN_WORDS, CLASS_C], [EN_SHARED, CLASS_D],
);
const MAX_LISTED_WORD = Math.max(...[...CYRILLIC_CLASSES.keys(), ...LATIN_CLASSES.keys()].map((w) => w.length));

// Walks the words (letters and apostrophes) of `s` without building an array of them, counting each word class
// of `classes` (tallyA..tallyD), English clitics and, for Cyrillic text, spellings of Kazakh typed on a Russian
// keyboard that Russian spelling never produces (tallyKkSpellings). Hashtag words (#brand, #city) are weak
// evidence: they count for the Kazakh and Uzbek lists (A, B) but not for C, D or spellings, unless the text is
// nothing but hashtags; tallyWordCount leaves them out likewise.
let tallyA = 0, tallyB = 0, tallyC = 0, tallyD = 0, tallyWordCount = 0, tallyUzApostrophes = 0;
let tallyEnClitics = 0, tallyKkSpellings = 0, tallyUzEndings = 0;
function tallyWords(s: string, classes: Map<string, number>, original: string | null, cyrillic: boolean): void {
  let na = 0, nb = 0, nc = 0, nd = 0, count = 0, uzApostrophes = 0, enClitics = 0, kkSpellings = 0, uzEndings = 0;
  let taggedC = 0, taggedD = 0, taggedCount = 0, taggedSpellings = 0;
  // Word checks on the original casing need the lower-cased positions to line up (İ lower-cases to two units).
  const aligned = original !== null && original.length === s.length;
  const n = s.length;
  let start = -1, apostrophe = false, kkSpelling = false, tagged = false;
  for (let i = 0; i <= n; i++) {
    let wordChar = false, width = 1;
    if (i < n) {
      const code = s.charCodeAt(i);
      if (code === 39) wordChar = apostrophe = true;
      else if (code < 0xd800 || code > 0xdfff) {
        wordChar = (infoAt(code) & LETTER) !== 0;
        if (cyrillic && code === YERU) kkSpelling ||= kazakhYeru(s, i, start < 0 ? i : start);
      } else if (isHighSurrogate(s, i, code)) {
        wordChar = (astralInfo(s.codePointAt(i)!) & LETTER) !== 0;
        width = 2;
      }
    }
    if (wordChar) {
      if (start < 0) {
        start = i;
        tagged = i > 0 && s.charCodeAt(i - 1) === 35; // #
      }
      i += width - 1;
      continue;
    }
    if (start >= 0) {
      let c = 0, d = 0;
      if (i - start <= MAX_LISTED_WORD) {
        const bits = classes.get(s.slice(start, i));
        if (bits !== undefined) {
          if (bits & CLASS_A) na += 1;
          if (bits & CLASS_B) nb += 1;
          if (bits & CLASS_C) c = 1;
          if (bits & CLASS_D) d = 1;
        }
      }
      if (apostrophe) {
        const lowerWord = s.slice(start, i);
        if (EN_CLITIC.test(lowerWord)) enClitics += 1;
        if (aligned && isUzApostropheWord(lowerWord, original.slice(start, i))) uzApostrophes += 1;
      }
      const spelling = cyrillic && ((kkSpelling && i - start > 2) || kazakhEnding(s, start, i)) ? 1 : 0;
      if (cyrillic && uzbekEnding(s, start, i)) uzEndings += 1;
      if (tagged) {
        taggedCount += 1;
        taggedC += c;
        taggedD += d;
        taggedSpellings += spelling;
      } else {
        count += 1;
        nc += c;
        nd += d;
        kkSpellings += spelling;
      }
      start = -1;
      apostrophe = kkSpelling = false;
    }
  }
  if (original !== null && !aligned) uzApostrophes = countUzApostrophes(original);
  if (count === 0) {
    count = taggedCount;
    nc = taggedC;
    nd = taggedD;
    kkSpellings = taggedSpellings;
  }
  tallyA = na;
  tallyB = nb;
  tallyC = nc;
  tallyD = nd;
  tallyWordCount = count;
  tallyUzApostrophes = uzApostrophes;
  tallyEnClitics = enClitics;
  tallyKkSpellings = kkSpellings;
  tallyUzEndings = uzEndings;
}

// Russian writes и, never ы, after к, г, ж, ш, and has no ы after у or opening a word (bar ый, ых, ыы laughter);
// Kazakh қы, ғы, жы, шы, ұы, ы- keep the ы when typed without the Kazakh letters. Words of two letters (гы-гы) do
// not count.
const YERU = 0x44b;
const AFTER_YERU_KK = new Set([0x43a, 0x433, 0x436, 0x448, 0x443]); // к г ж ш у
const OPENING_YERU_RU = new Set([0x439, 0x445, YERU]); // й х ы
function kazakhYeru(s: string, i: number, start: number): boolean {
  if (i > start) return AFTER_YERU_KK.has(s.charCodeAt(i - 1));
  const next = s.charCodeAt(i + 1);
  return i + 1 < s.length && (infoAt(next) & CYRILLIC) !== 0 && !OPENING_YERU_RU.has(next);
}

// Kazakh endings that neither Russian nor Uzbek words have (й is often typed as и): -ыз (you, our), -мын (I),
// -йды/-иды and -мейди/-бейди/-пейди/-дейди (present tense), -майд/-маит (the same cut short), -ымды/-ынды/-ыны
// (possessive), -ып (converb), -ндар/-ыздар (plural), -тыр (progressive), -ылады (passive). The word must be
// longer than the ending.
const KK_ENDINGS = new Map<number, string[]>();
for (const ending of [
  'ыз', 'мын', 'йды', 'аиды', 'еиды', 'ыиды', 'ымды', 'ынды', 'ыны', 'мейди', 'меиди', 'бейди', 'беиди', 'пейди',
  'пеиди', 'дейди', 'деиди', 'майд', 'байд', 'пайд', 'маит', 'баит', 'паит', 'ып', 'ндар', 'ыздар', 'тыр', 'ылады',
]) {
  const last = ending.charCodeAt(ending.length - 1);
  KK_ENDINGS.set(last, [...(KK_ENDINGS.get(last) ?? []), ending]);
}
// Uzbek past tense and accusative, -ди/-ни after a consonant, where Kazakh has -ды/-ді, -ны/-ні.
function uzbekEnding(s: string, start: number, end: number): boolean {
  if (end - start < 4 || s.charCodeAt(end - 1) !== 0x438) return false; // и
  const prev = s.charCodeAt(end - 2);
  return (prev === 0x434 || prev === 0x43d) && !CYRILLIC_VOWELS.has(s.charCodeAt(end - 3)); // д, н
}
const CYRILLIC_VOWELS = new Set([...'аеёиоуыэюяәіөүұ'].map((ch) => ch.charCodeAt(0)));

function kazakhEnding(s: string, start: number, end: number): boolean {
  const endings = KK_ENDINGS.get(s.charCodeAt(end - 1));
  if (endings === undefined) return false;
  next: for (const ending of endings) {
    const from = end - ending.length;
    if (from <= start) continue;
    for (let k = ending.length - 2; k >= 0; k--) if (s.charCodeAt(from + k) !== ending.charCodeAt(k)) continue next;
    return true;
  }
  return false;
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
