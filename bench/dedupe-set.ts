import { readRecordedPage } from '../crawlers/record.ts';
import { crawlers, findCrawler } from '../crawlers/registry.ts';
import { compareTexts, prepareText, type PreparedText } from '../pipeline/dedupe.ts';
import { prng, shuffle } from '../sentiment/train/sgd.ts';

/**
 * The near-duplicate evaluation set: real texts from the crawlers' recorded fixtures, each story copied the
 * ways people repost (retweets, forwards, quotes, comments, branch pages, small edits), among stories that
 * have no copies and pairs of different stories that share a long sentence. Deterministic from the seed.
 */

export interface RepostItem {
  id: string;
  text: string;
  /** The story: items of one group are copies of each other, items of different groups are not. */
  group: string;
}

export interface RepostSetOptions {
  seed: number;
  /** Stories that get copies (the rest of the fixture texts are distractors without copies). */
  originals?: number;
  /** Each story gets 1 to this many copies. */
  copiesPerOriginal?: number;
}

// Recorded responses with texts people write: reviews, posts, comments, news.
const FIXTURES: readonly [source: string, file: string][] = [
  ['app-store', 'customerreviews-us-full.json'],
  ['google-play', 'translate-newest-page1.txt'],
  ['google-play', 'twitter-relevant-2021.txt'],
  ['rss', 'guardian-trimmed.rss'],
  ['rss', 'heise.atom'],
  ['rss', 'content-encoded.rss'],
  ['rss', 'feedburner-trimmed.atom'],
  ['rss', 'encoding-iso-8859-1.rss'],
  ['rss', 'uol-noticias-latin1.rss'],
  ['reddit', 'search-r-all-2016.json'],
  ['reddit', 'comments-listing-2023.json'],
  ['reddit', 'home-2016.atom'],
  ['reddit', 'front-page-2015.rss'],
  ['telegram', 'channel-topwar-official.html'],
  ['telegram', 'message-text.html'],
  ['telegram', 'message-media-file.html'],
  ['telegram', 'message-media-photo-and-video.html'],
  ['telegram', 'message-forwarded-from.html'],
  ['vk', 'constructed-wall-getComments.json'],
  ['vk', 'vknet_NewsFeed_Search_NextFrom_NotNull.json'],
  ['vk', 'vknet_Wall_GetComment_ReturnCorrectResults.json'],
  ['vk', 'vknet_Wall_GetComments_ReturnLikesAndAttachments.json'],
  ['2gis', 'constructed-reviews-page-1.json'],
  ['2gis', 'constructed-reviews-page-2.json'],
];

const MIN_WORDS = 6;
// Reddit posts quote code and markup line by line; those lines are not what people repost.
const CODE = /[=<>{}`$\\|]|[\p{L}\p{N}]_[\p{L}\p{N}]|\w\.\w+\(|\(\)|^(?:def|return|if|for|print|File|sys)\b/u;
const mostlyLetters = (text: string) => (text.match(/\p{L}/gu)?.length ?? 0) >= 0.6 * text.replace(/\s/g, '').length;

/**
 * Every paragraph of every fixture mention (titles too) with at least MIN_WORDS words, in fixture order,
 * near-duplicates of an earlier one left out so that different groups really are different stories.
 */
async function loadFixtureTexts(): Promise<string[]> {
  const paragraphs: string[] = [];
  for (const [source, file] of FIXTURES) {
    const crawler = findCrawler(crawlers, source)!;
    const path = new URL(`../crawlers/${source}/fixtures/${file}`, import.meta.url).pathname;
    const page = await crawler.parse(readRecordedPage(path), { fetchedAt: new Date(0) });
    for (const m of page.mentions) {
      for (const text of [m.title ?? '', m.text]) {
        for (const p of text.split(/\n+/)) if (!CODE.test(p.trim()) && mostlyLetters(p)) paragraphs.push(p.trim());
      }
    }
  }
  const kept: PreparedText[] = [];
  const texts: string[] = [];
  for (const p of paragraphs) {
    const prepared = prepareText(p);
    if (prepared.wordCount < MIN_WORDS) continue;
    if (kept.some((k) => compareTexts(k, prepared).duplicate)) continue;
    kept.push(prepared);
    texts.push(p);
  }
  return texts;
}

type Rng = () => number;

const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;
const between = (rng: Rng, lo: number, hi: number): number => lo + Math.floor(rng() * (hi - lo + 1));
const shuffled = <T>(rng: Rng, items: readonly T[]): T[] => shuffle([...items], rng);

// Our own words for what people add when they repost.
const USERS = ['aigerim_k', 'timur88', 'nurlan.b', 'dilnoza_uz', 'sasha_msk', 'kz_news_bot', 'olga1985', 'jahongir'];
const CHANNELS = ['Новости Алматы', 'Ташкент сегодня', 'Пул N3', 'Astana Daily', 'Жалобы и отзывы KZ', 'Tech Digest'];
const SHORT_COMMENTS = [
  'Это правда', 'Жесть', 'У меня так же!', '+1', 'Согласен', 'Кошмар какой-то', 'Опять?', 'Ответьте уже!',
  'Same here', 'Can confirm', 'Wow', 'So true', 'Дәл солай', 'Menda ham shunday',
];
// A long comment is an opening, an experience and a closing in one language; no two parts of it go together
// twice in a set, so copies of different stories share one part of a comment at most.
const LONG_COMMENT_PARTS: readonly (readonly [readonly string[], readonly string[], readonly string[]])[] = [
  [
    ['Репощу, чтобы больше людей увидели.', 'Друзья, обратите внимание.', 'Вот и до нас дошло.', 'Коллеги, кто сталкивался?', 'Ну наконец-то кто-то написал.'],
    [
      'У меня ровно такая же история была на прошлой неделе, писал в поддержку три раза.',
      'Мы с женой месяц назад столкнулись с тем же самым в соседнем отделении.',
      'Я уже перестал удивляться, каждый месяц у них что-то новое.',
      'Знакомые рассказывали похожее, но я не верил, пока сам не увидел.',
      'Сам работал в похожей компании и знаю, как такие вещи решаются внутри.',
    ],
    [
      'Если сталкивались с подобным, напишите в комментариях.',
      'Посмотрим, что ответят, но я бы на их месте извинился публично.',
      'Будьте внимательны и проверяйте всё по два раза.',
      'Надеюсь, хоть так обратят внимание.',
      'Не знаю, кому верить, но звучит правдоподобно.',
    ],
  ],
  [
    ['Sharing this so more people see it.', 'Heads up, everyone.', 'Finally someone said it.', 'Not surprised at all.'],
    [
      'Exactly the same thing happened to me last month and nobody replied to my emails.',
      'My sister had this problem twice this year at two different branches.',
      'I have been a customer for years and it keeps getting worse every update.',
      'A friend told me about this but I did not believe it until I saw it myself.',
    ],
    [
      'If you have seen anything like this, leave a comment below.',
      'Let us see what they answer this time.',
      'Please check your statements carefully.',
      'Hope this gets fixed soon.',
    ],
  ],
  [
    ['Дәл солай.', 'Назар аударыңыздар.'],
    ['Маған да дәл осындай жағдай болды, қолдау қызметіне үш рет жаздым.', 'Біздің қалада да осындай жағдай бірнеше рет қайталанды.'],
    ['Ешкім жауап бермеді.', 'Жауап күтеміз.'],
  ],
  [
    ['Menda ham shunday.', 'Diqqat qiling, do‘stlar.'],
    ['Menda ham xuddi shunday bo‘ldi, qo‘llab-quvvatlash xizmatiga uch marta yozdim.', 'O‘tgan oy bizning filialda ham shu holat takrorlandi.'],
    ['Hech kim javob bermadi.', 'Javobini kutamiz.'],
  ],
];
const QUOTE_LEADS = ['', 'Вот что пишут:', 'Клиент пишет:', 'Отзыв из 2ГИС:', 'Look at this:', 'Из комментариев:'];
const LINKS = ['https://t.me/almaty_news/48213', 'https://vk.com/wall-1234567_8910', 'https://2gis.kz/almaty/firm/70000001012345', 'http://bit.ly/3xYz9Q'];
const HASHTAGS = ['#отзыв', '#жалоба', '#алматы', '#ташкент', '#новости', '#news', '#fail'];
const EMOJI = ['😡', '🔥', '👍', '😂', '🙏', '❗', '💔', '🤦‍♂️', '👇', '‼️', '😱'];
const FILLERS = ['очень', 'просто', 'вообще', 'really', 'just', 'actually', 'ещё', 'опять', 'juda', 'тоже'];
// Letters that look the same in both scripts: spam and careless keyboards swap them inside words.
const HOMOGLYPHS: Record<string, string> = {
  а: 'a', е: 'e', о: 'o', р: 'p', с: 'c', х: 'x', у: 'y', к: 'k', А: 'A', В: 'B', Е: 'E', К: 'K', М: 'M',
  Н: 'H', О: 'O', Р: 'P', С: 'C', Т: 'T', Х: 'X',
};
for (const [cyr, lat] of Object.entries({ ...HOMOGLYPHS })) HOMOGLYPHS[lat] = cyr;

// A signature line or a stock opening that different posts share: they must stay apart.
const SIGNATURES = [
  'Подписывайтесь на наш канал, чтобы первыми узнавать главные новости города и страны.',
  'Больше новостей в нашем телеграм-канале, ссылка в профиле, ставьте лайки и делитесь с друзьями.',
  'Follow us for more updates, turn on notifications and share this post with your friends.',
  'Biz bilan qoling, eng so‘nggi yangiliklar har kuni kanalimizda.',
];
const OPENINGS = [
  'Здравствуйте, пишу уже не в первый раз по поводу обслуживания в вашем магазине.',
  'Уважаемая служба поддержки, прошу обратить внимание на следующую ситуацию.',
  'Hello team, I have been a loyal customer for many years and want to share my experience.',
  'Срочно: поступила информация, подробности уточняются.',
];

const words = (text: string) => text.split(/\s+/).filter(Boolean);

function makeEditor(rng: Rng) {
  const usedComments = new Set<string>();
  function longComment(): string {
    for (let tries = 0; tries < 20; tries++) {
      // Russian and English most of the time, as in the mentions we see.
      const [openings, middles, closings] = LONG_COMMENT_PARTS[rng() < 0.85 ? between(rng, 0, 1) : between(rng, 2, 3)]!;
      const parts = [pick(rng, openings), pick(rng, middles), pick(rng, closings)].filter(() => rng() < 0.85);
      const pairs = parts.flatMap((a, i) => parts.slice(i + 1).map((b) => `${a}\u0000${b}`));
      const comment = parts.join(' ');
      if (comment.split(' ').length < 8 || pairs.some((pair) => usedComments.has(pair))) continue;
      for (const pair of pairs) usedComments.add(pair);
      return comment;
    }
    return pick(rng, SHORT_COMMENTS);
  }
  // A comment before or after the post: a short one often on the same line, a long one mostly a paragraph
  // of its own (a quote-repost), sometimes run into the post as one paragraph (a quote tweet).
  function withComment(text: string): string {
    const long = rng() < 0.5;
    const comment = long ? longComment() : pick(rng, SHORT_COMMENTS);
    const gap = rng() < (long ? 0.2 : 0.5) ? ' ' : pick(rng, ['\n', '\n\n']);
    return rng() < 0.5 ? `${comment}${gap}${text}` : `${text}${gap}${comment}`;
  }

  const light: Record<string, (text: string) => string> = {
    case: (text) => (rng() < 0.5 ? text.toUpperCase() : text.toLowerCase()),
    emoji(text) {
      const w = words(text);
      for (let n = between(rng, 1, 3); n > 0; n--) w.splice(between(rng, 0, w.length), 0, pick(rng, EMOJI));
      return w.join(' ');
    },
    punctuation(text) {
      const r = rng();
      if (r < 0.4) return text.replace(/[.,!?;:«»"()—–-]+/g, ' ').replace(/\s+/g, ' ');
      if (r < 0.7) return text.replace(/\.(\s|$)/g, '!!!$1').replace(/\n+/g, ' ');
      // Spaces doubled, lines broken where the copier's screen was narrower.
      return text.replace(/\s+/g, () => (rng() < 0.8 ? ' ' : pick(rng, ['  ', '\n', ' \n'])));
    },
    words(text) {
      const w = words(text);
      // Two edits in a seven-word text would make it another text.
      for (let n = w.length < 12 ? 1 : between(rng, 1, 2); n > 0; n--) {
        const at = between(rng, 0, w.length - 1);
        const op = rng();
        if (op < 0.34) w.splice(at, 1);
        else if (op < 0.67) w.splice(at, 0, pick(rng, FILLERS));
        else w[at] = pick(rng, FILLERS);
      }
      return w.join(' ');
    },
    truncate(text) {
      const keep = Math.ceil(text.length * (0.7 + 0.25 * rng()));
      let cut = text.slice(0, keep);
      // Previews cut at a word or in the middle of one.
      if (rng() < 0.6 && cut.lastIndexOf(' ') > text.length * 0.7) cut = cut.slice(0, cut.lastIndexOf(' '));
      return `${cut.trimEnd()}…`;
    },
    homoglyph(text) {
      const w = words(text);
      const swappable = w.map((x, i) => [...x].some((c) => HOMOGLYPHS[c]) ? i : -1).filter((i) => i >= 0);
      for (let n = Math.min(between(rng, 1, 2), swappable.length); n > 0; n--) {
        const i = pick(rng, swappable);
        const chars = [...w[i]!];
        const at = pick(rng, chars.map((c, j) => (HOMOGLYPHS[c] ? j : -1)).filter((j) => j >= 0));
        chars[at] = HOMOGLYPHS[chars[at]!]!;
        w[i] = chars.join('');
      }
      return w.join(' ');
    },
  };
  const lightKinds = Object.keys(light);

  const primary: [weight: number, edit: (text: string) => string][] = [
    [2, (text) => `RT @${pick(rng, USERS)}: ${text}`],
    [1, (text) => `Forwarded from ${pick(rng, CHANNELS)}\n${text}`],
    [1, (text) => `Переслано от ${pick(rng, CHANNELS)}\n\n${text}`],
    [1, (text) => `Репост\n${text}`],
    [3, withComment],
    [2, (text) => `${pick(rng, QUOTE_LEADS)} «${text}»`.trim()],
    [2, (text) => `${text}${rng() < 0.5 ? `\n${pick(rng, LINKS)}` : ''} ${shuffled(rng, HASHTAGS).slice(0, between(rng, 1, 3)).join(' ')}`],
    [1, (text) => `${text} ${pick(rng, LINKS)}`],
    [4, (text) => light[pick(rng, lightKinds)]!(text)],
  ];
  const totalWeight = primary.reduce((s, [w]) => s + w, 0);

  return {
    /** A copy as someone would repost it: one way of reposting, sometimes with a small edit on top. */
    copy(text: string): string {
      let r = rng() * totalWeight;
      const [, edit] = primary.find(([w]) => (r -= w) < 0) ?? primary[primary.length - 1]!;
      const edited = rng() < 0.35 ? light[pick(rng, lightKinds)]!(text) : text;
      return edit(edited);
    },
  };
}

// The RSS parser is asynchronous; reading the fixtures once, at import, keeps the set's generation synchronous.
export const FIXTURE_TEXTS: readonly string[] = await loadFixtureTexts();

export function generateRepostSet(opts: RepostSetOptions): RepostItem[] {
  const rng = prng(opts.seed);
  const editor = makeEditor(rng);
  const pool = shuffled(rng, FIXTURE_TEXTS);
  const items: RepostItem[] = [];
  const addCopies = (id: string, text: string, max: number) => {
    // The same review pasted on several branches' pages is an exact copy, several times.
    const branchPaste = rng() < 0.1;
    for (let c = 1, n = between(rng, 1, max); c <= n; c++) items.push({ id: `${id}c${c}`, text: branchPaste ? text : editor.copy(text), group: id });
  };

  // Hard negatives: bodies long enough that the shared sentence is not most of the post.
  const bodies = pool.filter((t) => words(t).length >= 12).slice(0, 3 * (SIGNATURES.length + OPENINGS.length));
  const rest = pool.filter((t) => !bodies.includes(t));
  let body = 0;
  for (const [i, shared] of [...SIGNATURES, ...OPENINGS].entries()) {
    const signature = i < SIGNATURES.length;
    for (let j = 0; j < 3 && body < bodies.length; j++, body++) {
      const id = `h${i}.${j}`;
      const text = signature ? `${bodies[body]}\n\n${shared}` : `${shared} ${bodies[body]}`;
      items.push({ id, text, group: id });
      if (rng() < 0.5) addCopies(id, text, 2);
    }
  }

  const originals = Math.min(opts.originals ?? 360, rest.length);
  const maxCopies = opts.copiesPerOriginal ?? 5;
  for (const [i, text] of rest.entries()) {
    const id = i < originals ? `o${i}` : `d${i}`;
    items.push({ id, text, group: id });
    if (i < originals) addCopies(id, text, maxCopies);
  }
  // Copies arrive before their original as often as after.
  return shuffle(items, rng);
}

export interface PairwiseScore {
  precision: number;
  recall: number;
  pairs_true: number;
  pairs_predicted: number;
}

/** Pairwise precision and recall of a clustering: over the pairs of items that share a group or a cluster. */
export function pairwiseScore(items: readonly RepostItem[], clusterOf: (id: string) => string): PairwiseScore {
  const count = (keys: Iterable<string>) => {
    const sizes = new Map<string, number>();
    for (const k of keys) sizes.set(k, (sizes.get(k) ?? 0) + 1);
    let pairs = 0;
    for (const n of sizes.values()) pairs += (n * (n - 1)) / 2;
    return pairs;
  };
  const clusters = items.map((item) => clusterOf(item.id));
  const pairsTrue = count(items.map((item) => item.group));
  const pairsPredicted = count(clusters);
  const correct = count(items.map((item, i) => `${item.group}\u0000${clusters[i]}`));
  return {
    precision: pairsPredicted === 0 ? 1 : correct / pairsPredicted,
    recall: pairsTrue === 0 ? 1 : correct / pairsTrue,
    pairs_true: pairsTrue,
    pairs_predicted: pairsPredicted,
  };
}
