import { describe, expect, it } from 'vitest';
import { compareTexts, contentKey, isNearDuplicate, prepareText, signText } from './dedupe.ts';

// Our own texts, the kinds we see: a branch review, a city news post, a short complaint in Uzbek.
const REVIEW =
  'Заказывала доставку в Ромашке на Абая, курьер опоздал на два часа, пицца приехала холодной, а в поддержке мне просто перестали отвечать. Больше не закажу.';
const POST =
  'В Алматы сегодня утром отключили горячую воду в трёх микрорайонах Ауэзовского района. Как сообщили в акимате, ремонт на теплотрассе продлится до пятницы, ' +
  'а жителям предлагают звонить в call-центр 109. Жильцы жалуются, что их никто не предупредил заранее и что в прошлом году было то же самое.';
const SHORT = 'Ilova ishlamayapti, pulimni qaytaring, juda yomon xizmat';

const sharedBands = (a: string, b: string) => {
  const bands = new Set(signText(a).bands);
  return signText(b).bands.filter((k) => bands.has(k)).length;
};

describe('contentKey and the fingerprint', () => {
  it('keep the words and drop case, ё, links, mentions, repost markers, emoji, punctuation and spacing', () => {
    expect(contentKey('RT @aigerim_k: Ёлки, Ромашка опять СПИСАЛА деньги!!! 😡 https://t.co/x1 #ромашка #жалоба')).toBe('елки ромашка опять списала деньги');
    expect(contentKey('Forwarded from Новости Алматы\nВоду отключили до пятницы.')).toBe('воду отключили до пятницы');
    expect(contentKey('Переслано от Новости Алматы: Воду отключили до пятницы.')).toBe('воду отключили до пятницы');
    expect(contentKey('🔁 Репост: Воду отключили до пятницы www.example.kz/water')).toBe('воду отключили до пятницы');
    // A hashtag inside the text is a word of it; only the trailing run is tagging.
    expect(contentKey('#Ромашка опять не работает #fail')).toBe('ромашка опять не работает');
  });

  it('is the same for copies that differ only in what the key drops', () => {
    const copies = [
      REVIEW,
      `RT @timur88: ${REVIEW}`,
      `Forwarded from Жалобы и отзывы KZ\n${REVIEW}`,
      `Переслано от Жалобы и отзывы KZ\n\n${REVIEW}`,
      `Репост\n${REVIEW}`,
      REVIEW.toUpperCase(),
      REVIEW.replaceAll('ё', 'е').replaceAll(',', ' ,  ').replaceAll('. ', '.\n\n'),
      `${REVIEW.replace('курьер', '😡 курьер')} 🙏 https://2gis.kz/almaty/firm/70000001012345 @romashka_kz #доставка #алматы`,
      // A Latin "a" inside the Cyrillic "Ромашке": the folding undoes the disguise.
      REVIEW.replace('Ромашке', 'Ромaшке'),
    ];
    const fingerprints = new Set(copies.map((text) => signText(text).fingerprint));
    expect(fingerprints.size).toBe(1);
    expect([...fingerprints][0]).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(signText(REVIEW.replace('холодной', 'горячей')).fingerprint).not.toBe([...fingerprints][0]);
  });

  it('keeps the story of a forward whose header lost its line break, as stored text does', () => {
    const collapsed = `Переслано от Жалобы и отзывы ${REVIEW}`;
    expect(signText(collapsed).fingerprint).not.toBeNull();
    expect(isNearDuplicate(collapsed, REVIEW)).toBe(true);
    const shared = signText(collapsed).bands.filter((key) => signText(REVIEW).bands.includes(key));
    expect(shared.length).toBeGreaterThan(0);
  });

  it('is null, with no bands, when nothing is left of the text', () => {
    for (const text of ['', '   ', '😡😡😡', 'https://t.me/almaty_news/1', 'RT @someone:', '!!! ...']) {
      expect(signText(text)).toEqual({ fingerprint: null, bands: [] });
    }
    expect(isNearDuplicate('', '')).toBe(false);
  });
});

describe('LSH band keys', () => {
  it('are signed 64-bit decimal strings, distinct, and the same on every call', () => {
    const { bands } = signText(POST);
    expect(bands.length).toBeGreaterThan(0);
    expect(new Set(bands).size).toBe(bands.length);
    for (const key of bands) {
      expect(key).toMatch(/^-?[1-9]\d{0,18}$|^0$/);
      expect(BigInt.asIntN(64, BigInt(key))).toBe(BigInt(key));
    }
    expect(signText(POST)).toEqual(signText(POST));
  });

  // Stored mentions are keyed by them: the same text must get the same keys in every process and release.
  it('do not change between releases', () => {
    const { fingerprint, bands } = signText(REVIEW);
    expect(fingerprint).toBe(signText(REVIEW.toLowerCase()).fingerprint);
    expect({ fingerprint, first: bands.slice(0, 2), count: bands.length }).toMatchInlineSnapshot(`
      {
        "count": 50,
        "fingerprint": "-Sc5J9AnfRjnnj6hVTzULm",
        "first": [
          "-6420064422325622166",
          "-2168839850399602295",
        ],
      }
    `);
  });

  it('are empty for texts too short to compare, which match exact copies only', () => {
    expect(signText('Ромашка не работает').bands).toEqual([]);
    expect(signText('Ромашка не работает').fingerprint).not.toBeNull();
    expect(isNearDuplicate('Ромашка не работает!!!', 'ромашка, НЕ работает')).toBe(true);
    expect(isNearDuplicate('Ромашка не работает', 'Ромашка не отвечает')).toBe(false);
    // Three long words are enough letters to compare.
    expect(signText('Приложение постоянно вылетает').bands.length).toBeGreaterThan(0);
  });
});

describe('isNearDuplicate', () => {
  const truncated = (text: string, share: number) => `${text.slice(0, Math.ceil(text.length * share))}…`;
  const copies: [kind: string, original: string, copy: string][] = [
    ['retweet', REVIEW, `RT @aigerim_k: ${REVIEW}`],
    ['forward', POST, `Forwarded from Новости Алматы\n${POST}`],
    ['short comment before', REVIEW, `Жесть, у меня так же! ${REVIEW}`],
    ['short comment after', POST, `${POST}\n\nКошмар, опять`],
    ['long comment before', POST, `Репощу, чтобы больше людей увидели: у нас на Жандосова то же самое, воду не дают уже третий день и никто ничего не объясняет.\n${POST}`],
    ['long comment after a short post', SHORT, `${SHORT}\n\nMenda ham xuddi shunday bo'ldi, qo'llab-quvvatlash xizmatiga uch marta yozdim, hech kim javob bermadi, pulni bir oydan keyin qaytarishdi`],
    ['link and hashtags', POST, `${POST}\nhttps://t.me/almaty_news/48213 #алматы #вода`],
    ['case', REVIEW, REVIEW.toLowerCase()],
    ['emoji', REVIEW, REVIEW.replace('опоздал', '😡 опоздал').replace('Больше', '👎 Больше')],
    ['punctuation and spacing', POST, POST.replace(/[.,]/g, '').replace(/ /g, '  ')],
    ['a word deleted', REVIEW, REVIEW.replace(' просто', '')],
    ['a word inserted', SHORT, SHORT.replace('juda', 'juda ham')],
    ['two words replaced', POST, POST.replace('горячую', 'холодную').replace('пятницы', 'субботы')],
    ['truncated to 75%', POST, truncated(POST, 0.75)],
    ['truncated to 70% with a comment', REVIEW, `Опять Ромашка!\n${truncated(REVIEW, 0.7)}`],
    ['homoglyphs', REVIEW, REVIEW.replace('курьер', 'kурьеp').replace('пицца', 'пиццa')],
    ['pasted on another branch', REVIEW, REVIEW],
    ['quoted', REVIEW, `Вот что пишут клиенты: «${REVIEW}»`],
  ];

  it.each(copies)('%s: a near-duplicate, and a candidate by its bands', (_kind, original, copy) => {
    expect(isNearDuplicate(original, copy)).toBe(true);
    expect(isNearDuplicate(copy, original)).toBe(true);
    expect(sharedBands(original, copy)).toBeGreaterThan(0);
  });

  it('counts a post inside a longer repost (containment), though most of the repost is the comment', () => {
    const comment = 'Я сам живу в этом районе и могу подтвердить, что воду отключают каждый год в одно и то же время, а предупреждают всегда в последний момент, когда уже поздно что-то планировать.';
    const repost = `${comment} ${POST.slice(0, 120)}`;
    const original = POST.slice(0, 120);
    const { jaccard, containment, duplicate } = compareTexts(prepareText(original), prepareText(repost));
    expect(jaccard).toBeLessThan(0.5);
    expect(containment).toBe(1);
    expect(duplicate).toBe(true);
  });

  it('does not count a short phrase that a long post happens to contain', () => {
    expect(isNearDuplicate('воду отключили опять', POST.replace('отключили', 'воду отключили опять'))).toBe(false);
    expect(isNearDuplicate('Больше не закажу, никогда', REVIEW)).toBe(false);
  });

  // Different stories that share a long sentence: a channel's signature, a stock opening.
  const SIGNATURE = 'Подписывайтесь на наш канал, чтобы первыми узнавать главные новости Алматы и всего Казахстана.';
  const OPENING = 'Здравствуйте, пишу уже не в первый раз по поводу обслуживания в вашем магазине на Абая.';
  const hardNegatives: [kind: string, a: string, b: string][] = [
    [
      'the same signature line',
      `На Саина столкнулись три машины, движение в сторону Рыскулова затруднено, водителей просят объезжать.\n\n${SIGNATURE}`,
      `В ЦОНах Алматы с понедельника меняется график работы: по субботам будут принимать до обеда.\n\n${SIGNATURE}`,
    ],
    [
      'the same first sentence',
      `${OPENING} Кассир нагрубила мне при всех, когда я попросила пробить товар по акционной цене с ценника.`,
      `${OPENING} Вчера купил молоко, а дома оказалось, что срок годности закончился ещё неделю назад.`,
    ],
    ['the same review template, other details', 'Ждали заказ сорок минут, никто даже не извинился.', 'Ждали такси двадцать минут, водитель даже не позвонил.'],
  ];

  it.each(hardNegatives)('%s: different stories stay apart', (_kind, a, b) => {
    expect(isNearDuplicate(a, b)).toBe(false);
  });
});
