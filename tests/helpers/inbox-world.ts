// A brand's first weeks of talk, made up by us (no recorded or dataset text), stored the way a crawl stores it:
// through syncConfig and ingestPage, so sentiment, actionability, stories and tickets come from the real pipeline.
// The browser tests and `npm run bench -- inbox` share it.
import { parseConfig } from '../../config/load.ts';
import type { EarshotConfig } from '../../config/schema.ts';
import type { MentionDraft } from '../../crawlers/types.ts';
import { crawlers } from '../../crawlers/registry.ts';
import { ingestPage } from '../../pipeline/ingest.ts';
import { brandQuery } from '../../pipeline/query.ts';
import type { TicketPolicy } from '../../pipeline/ticket-policy.ts';
import { syncConfig, ticketPolicyOf, type ScheduledTarget } from '../../scheduler/sync-config.ts';
import type { Db } from '../../store/connect.ts';

export const WORLD_BRAND = 'Жетысу Маркет';

export const WORLD_CONFIG = `
brands:
  - name: ${WORLD_BRAND}
    keywords: [жетысу маркет, жетысумаркет, zhetysu market]
teams:
  - id: support
    name: Customer support
  - id: smm
    name: Social media
routing:
  defaultTeam: support
  rules:
    - id: legal
      match: { reasons: [legal_threat, fraud_claim] }
      actions: { priority: urgent }
      continue: true
    - id: social-to-smm
      match: { source: [telegram] }
      actions: { team: smm }
targets:
  - id: 2gis-abaya
    source: 2gis
    brand: ${WORLD_BRAND}
    params: { branchId: "70000001033566614", domain: 2gis.kz, city: almaty, locale: ru_KZ }
  - id: telegram-city
    source: telegram
    brand: ${WORLD_BRAND}
    params: { channel: almaty_news_example }
  - id: app-store-kz
    source: app-store
    brand: ${WORLD_BRAND}
    params: { appId: "284815942", country: kz }
`;

// Our own sentences: what people write about a grocery chain, good and bad, in Russian and English.
const NEGATIVE_RU = [
  'Жетысу Маркет на Абая: кассир нагрубил, очередь на полчаса, больше не приду.',
  'Купила в Жетысу Маркет творог, дома оказался просроченным. Верните деньги!',
  'Приложение Жетысу Маркет списало деньги дважды, поддержка молчит третий день.',
  'Доставка Жетысу Маркет опоздала на три часа, курьер не отвечает на звонки.',
  'В Жетысу Маркет ценник один, а на кассе пробили другой. Это обман покупателей.',
  'Жетысу Маркет, почему в приложении не работает оплата картой? Уже неделю так.',
  'Охранник в Жетысу Маркет на Сатпаева ведёт себя по-хамски, жалобу оставила.',
];
const NEGATIVE_EN = [
  'Zhetysu Market app keeps crashing at checkout, lost my cart twice today.',
  'Ordered from Zhetysu Market, half the groceries missing and no refund yet.',
];
const NEUTRAL_RU = [
  'Жетысу Маркет открывает новый магазин в Алатауском районе в декабре.',
  'Во сколько закрывается Жетысу Маркет на Абая в воскресенье?',
  'Жетысу Маркет объявил о новой программе лояльности с января.',
];
const POSITIVE_RU = [
  'Спасибо Жетысу Маркет за быструю доставку, всё свежее и вовремя!',
  'В Жетысу Маркет на Абая очень вежливые кассиры, приятно заходить.',
  'Жетысу Маркет, отличная выпечка по утрам, беру каждый день.',
];
const POSITIVE_EN = ['Zhetysu Market has the best fresh bread in Almaty, great staff too.'];
const CONTEXT = [
  'Было в субботу утром, народу почти не было.',
  'Хожу туда каждый день после работы.',
  'Это уже второй раз за месяц.',
  'Брала продукты на день рождения дочери.',
  'Покупаю там для всей семьи.',
  'Обычно всё нормально, но в этот раз вот так.',
  'Рядом с домом, поэтому выбираю его.',
  'Заказывала через приложение с телефона.',
  'Муж ездил вечером, рассказал дома.',
  'Сравнивала с соседним магазином.',
  'Подруга посоветовала попробовать.',
  'Живу в этом районе пять лет.',
];
const CONTEXT_EN = ['It happened on Saturday morning.', 'I shop there every week.', 'Second time this month.', 'Ordered through the app on my phone.'];
const STREETS = ['Абая', 'Сатпаева', 'Толе би', 'Розыбакиева', 'Жандосова', 'Гагарина', 'Назарбаева', 'Тимирязева'];

export interface InboxWorld {
  config: EarshotConfig;
  policy: TicketPolicy;
  targets: ScheduledTarget[];
}

export async function createInboxWorld(db: Db, now: Date): Promise<InboxWorld> {
  const config = parseConfig(WORLD_CONFIG, { crawlers, env: {} });
  const synced = await syncConfig(db, config, crawlers, now);
  return { config, policy: ticketPolicyOf(config), targets: synced.scheduled };
}

function pick<T>(list: readonly T[], n: number): T {
  return list[n % list.length]!;
}

/**
 * The n-th item of the world: mostly neutral and positive talk with one negative in four; reviews carry stars.
 */
export function worldDraft(n: number, at: Date, opts: { distinct?: boolean } = {}): { targetId: string; draft: MentionDraft } {
  // Every 25th item repeats the one before word for word on another source: a repost, one story of two copies.
  const m = n % 25 === 24 ? n - 1 : n;
  const kind = m % 20;
  const negative = kind < 5;
  const positive = kind >= 13;
  const lists = negative ? (m % 7 === 0 ? NEGATIVE_EN : NEGATIVE_RU) : positive ? (m % 9 === 0 ? POSITIVE_EN : POSITIVE_RU) : NEUTRAL_RU;
  const targetId = pick(['2gis-abaya', 'telegram-city', 'app-store-kz', 'telegram-city'], n);
  const source = targetId === '2gis-abaya' ? '2gis' : targetId === 'telegram-city' ? 'telegram' : 'app-store';
  const review = source !== 'telegram';
  // An order, a receipt, an amount and a day make each text its own story, as real complaints are.
  const order = 40_000 + ((m * 7919) % 59_999);
  const sum = 1_000 + ((m * 613) % 49_000);
  const english = lists === NEGATIVE_EN || lists === POSITIVE_EN;
  const details = english
    ? `${pick(CONTEXT_EN, m)} Store on ${pick(STREETS, m * 3)} street, order ${order}, ${sum} tenge.`
    : `${pick(CONTEXT, m * 5 + Math.floor(m / 12))} Магазин на ${pick(STREETS, m * 3)}, заказ ${order}, сумма ${sum} ₸.`;
  const text = `${pick(lists, Math.floor(m / 20) + (m % 20))} ${details}${opts.distinct ? ` ${tailOf(m)}` : ''}`;
  return {
    targetId,
    draft: {
      source,
      externalId: `w${n}`,
      url: `https://${source}.example/${n}`,
      author: { name: `Покупатель ${n % 997}`, handle: `buyer${n % 997}`, followers: (n * 37) % 5000 },
      title: null,
      text,
      rating: review ? (negative ? 1 + (n % 2) : positive ? 5 : 3) : null,
      publishedAt: at.toISOString(),
      lang: null,
      metrics: review ? {} : { views: (n * 131) % 20000 },
      reply: null,
      parentExternalId: null,
    },
  };
}

// A few made-up words per item, from its number: enough that two complaints told with the same sentences stay
// two stories, as they do at a real brand's scale (the bench's hundred thousand), not one story each.
const TAIL_WORDS = [
  'касса', 'пакет', 'молоко', 'хлеб', 'скидка', 'акция', 'бонус', 'курьер', 'склад', 'витрина', 'полка', 'чек',
  'возврат', 'звонок', 'менеджер', 'очередь', 'парковка', 'тележка', 'карта', 'сдача', 'упаковка', 'срок', 'цена',
  'вечер', 'утро', 'обед', 'суббота', 'понедельник', 'район', 'подъезд', 'лифт', 'соседи', 'дети', 'мама', 'брат',
];

function tailOf(m: number): string {
  let x = (m * 2_654_435_761) >>> 0;
  const words: string[] = [];
  for (let i = 0; i < 12; i++) {
    x = (x * 1_103_515_245 + 12_345) >>> 0;
    words.push(TAIL_WORDS[(x >>> 8) % TAIL_WORDS.length]!);
  }
  return words.join(' ');
}

/**
 * Stores `count` items, `pageSize` at a time, one minute apart ending at `now`, through the ingestion path.
 * Returns how many were stored.
 */
export async function seedInboxWorld(
  db: Db,
  world: InboxWorld,
  opts: { count: number; now: Date; pageSize?: number; from?: number; distinct?: boolean },
): Promise<number> {
  const pageSize = opts.pageSize ?? 200;
  const from = opts.from ?? 0;
  let stored = 0;
  for (let start = from; start < from + opts.count; start += pageSize) {
    const byTarget = new Map<string, MentionDraft[]>();
    for (let n = start; n < Math.min(start + pageSize, from + opts.count); n++) {
      const at = new Date(opts.now.getTime() - (from + opts.count - 1 - n) * 60_000);
      const { targetId, draft } = worldDraft(n, at, { distinct: opts.distinct ?? false });
      byTarget.set(targetId, [...(byTarget.get(targetId) ?? []), draft]);
    }
    for (const [targetId, drafts] of byTarget) {
      const target = world.targets.find((t) => t.id === targetId);
      if (!target) throw new Error(`the world has no target ${targetId}`);
      const brands = target.brands.map((brand) => ({ brand, matcher: target.source === 'telegram' ? brandQuery(brand) : null }));
      const counts = await ingestPage({ db, now: () => opts.now, policy: world.policy }, drafts, { brands, targetId, team: target.team ?? null });
      stored += counts.new;
    }
  }
  return stored;
}
