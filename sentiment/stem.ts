import { createRequire } from 'node:module';
import { foldLetters } from './fold.ts';
import type { Lang } from './language.ts';

// Snowball for Russian and English. Kazakh and Uzbek get suffix stripping: both are agglutinative, so case,
// plural and possessive endings pile up after the root. Verb negation (-ма/-ме, -ma) is kept on purpose:
// ұнады/ұнамады, yoqdi/yoqmadi differ in sentiment only there.
const KK_SUFFIXES = [
  'лардың', 'лердің', 'дардың', 'дердің', 'тардың', 'тердің', 'ларға', 'лерге', 'ларда', 'лерде', 'лардан', 'лерден',
  'ларын', 'лерін', 'ларды', 'лерді', 'лары', 'лері', 'дары', 'дері', 'тары', 'тері',
  'лар', 'лер', 'дар', 'дер', 'тар', 'тер',
  'ымыз', 'іміз', 'ыңыз', 'іңіз', 'мыз', 'міз', 'ңыз', 'ңіз',
  'ның', 'нің', 'дың', 'дің', 'тың', 'тің', 'нда', 'нде', 'дан', 'ден', 'тан', 'тен', 'нан', 'нен',
  'ға', 'ге', 'қа', 'ке', 'на', 'не', 'да', 'де', 'та', 'те', 'ны', 'ні', 'ды', 'ді', 'ты', 'ті',
  'мен', 'бен', 'пен', 'ым', 'ім', 'ың', 'ің', 'сы', 'сі', 'ы', 'і',
];
const UZ_SUFFIXES = [
  'larimiz', 'laringiz', 'larning', 'laridan', 'larida', 'lariga', 'larini', 'lari', 'larga', 'larda', 'lardan',
  'larni', 'lar', 'imiz', 'ingiz', 'ning', 'dan', 'tan', 'ga', 'ka', 'qa', 'da', 'ta', 'ni', 'im', 'ing', 'si',
  'лари', 'ларга', 'ларда', 'лардан', 'ларни', 'лар', 'имиз', 'ингиз', 'нинг', 'дан', 'га', 'ка', 'қа', 'да', 'ни',
  'им', 'инг', 'си',
];
// The endings in both spellings, since sentiment features see folded text.
const bothSpellings = (suffixes: readonly string[]) =>
  [...new Set([...suffixes, ...suffixes.map(foldLetters)])].sort((a, b) => b.length - a.length);
const KK_SORTED = bothSpellings(KK_SUFFIXES);
const UZ_SORTED = bothSpellings(UZ_SUFFIXES);
const MIN_STEM = 3;
const MAX_ROUNDS = 3;
const CACHE_LIMIT = 200_000;

type Stemmer = (word: string) => string;

const require = createRequire(import.meta.url);
const stemmers = new Map<Lang, Stemmer>();
const caches = new Map<Lang, Map<string, string>>();

function stripSuffixes(suffixes: readonly string[]): Stemmer {
  return (word) => {
    let stem = word;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const suffix = suffixes.find((s) => stem.endsWith(s) && stem.length - s.length >= MIN_STEM);
      if (suffix === undefined) break;
      stem = stem.slice(0, -suffix.length);
    }
    return stem;
  };
}

function stemmerFor(lang: Lang): Stemmer {
  let stemmer = stemmers.get(lang);
  if (stemmer === undefined) {
    if (lang === 'ru' || lang === 'en') {
      const snowball = (require('snowball-stemmers') as typeof import('snowball-stemmers')).newStemmer(
        lang === 'ru' ? 'russian' : 'english',
      );
      stemmer = (word) => snowball.stem(word);
    } else if (lang === 'kk') stemmer = stripSuffixes(KK_SORTED);
    else if (lang === 'uz') stemmer = stripSuffixes(UZ_SORTED);
    else stemmer = (word) => word;
    stemmers.set(lang, stemmer);
  }
  return stemmer;
}

/**
 * The stem of a lower-cased word (ё already folded to е). Cached: word frequencies are Zipfian, so most
 * calls are a map hit, which keeps Snowball's ~0.13 M words/s out of the hot path.
 */
export function stemWord(word: string, lang: Lang): string {
  let cache = caches.get(lang);
  if (cache === undefined) caches.set(lang, (cache = new Map()));
  let stem = cache.get(word);
  if (stem === undefined) {
    // Mixed-language texts: Cyrillic words in an English text go to the Russian stemmer and vice versa.
    const cyrillic = word.charCodeAt(0) >= 0x400 && word.charCodeAt(0) <= 0x4ff;
    const effective: Lang = lang === 'en' && cyrillic ? 'ru' : lang === 'ru' && !cyrillic ? 'en' : lang;
    stem = word.length <= MIN_STEM ? word : stemmerFor(effective)(word);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(word, stem);
  }
  return stem;
}
