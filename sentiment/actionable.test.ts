import { describe, expect, it } from 'vitest';
import { assessActionability, findActionReasons, type ActionabilityInput } from './actionable.ts';
import type { Lang } from './language.ts';
import { ACTION_REASONS, type ActionExclusion, type ActionReason, type SentimentLabel } from './types.ts';

/** A sentiment label at good confidence, or `weak-negative`: a negative label below the confidence threshold. */
type Mood = SentimentLabel | 'weak-negative';
type Flags = Partial<Pick<ActionabilityInput, 'ownPost' | 'answered' | 'sponsored'>>;
/** Expected reasons when not excluded, or the exclusion that overrides them. */
type Expected = ActionReason[] | ActionExclusion;
type Row = [lang: Lang, text: string, mood: Mood, rating: number | null, actionable: boolean, expected: Expected, flags?: Flags];

function sentimentOf(mood: Mood): ActionabilityInput['sentiment'] {
  if (mood === 'weak-negative') return { label: 'negative', score: -0.2, confidence: 0.45, lowConfidence: true };
  const score = { negative: -0.7, neutral: 0, positive: 0.7, mixed: 0, unscored: null }[mood];
  return { label: mood, score, confidence: mood === 'unscored' ? 0 : 0.85, lowConfidence: false };
}

function assess(lang: Lang, text: string, mood: Mood, rating: number | null, flags: Flags = {}) {
  return assessActionability({
    text, lang, sentiment: sentimentOf(mood), rating, ownPost: false, answered: false, ...flags,
  });
}

const rows: Row[] = [
  // Russian
  ['ru', 'Приложение не работает с утра, ничего не грузит', 'negative', null, true, ['complaint']],
  ['ru', 'Почему мне не пришли деньги? Жду уже три дня', 'negative', null, true, ['complaint', 'question']],
  ['ru', 'Вчера заблокировали карту, а сегодня пишет, что счёт заблокирован', 'neutral', null, true, ['complaint']],
  ['ru', 'Опять блокируют переводы между своими счетами', 'neutral', null, true, ['complaint']],
  ['ru', 'Это мошенники, списали деньги без моего согласия', 'negative', null, true, ['fraud_claim', 'complaint']],
  ['ru', 'Очередная жертва мошенников из колл-центра', 'negative', null, true, ['fraud_claim']],
  ['ru', 'Если не вернёте деньги, подаю в суд и пишу в Роспотребнадзор', 'negative', null, true, ['legal_threat', 'complaint']],
  ['ru', 'Отравились всей семьёй после вашей шаурмы, ребёнок в больнице', 'negative', null, true, ['safety']],
  ['ru', 'Всё, удаляю приложение и ухожу к конкурентам', 'negative', null, true, ['churn_threat']],
  ['ru', 'Подскажите, а можно ли оформить карту без прописки?', 'neutral', null, true, ['question']],
  ['ru', 'Сколько можно ждать?! Курьера нет уже два часа', 'negative', null, true, ['complaint', 'question']],
  ['ru', 'Серьёзно? Опять?', 'neutral', null, false, []],
  ['ru', 'Огромное спасибо команде, лучший банк в Казахстане!', 'positive', null, true, ['praise']],
  ['ru', 'Рекомендую, спасибо большое', 'neutral', 5, true, ['praise']],
  ['ru', 'Большое спасибо за ответ', 'neutral', null, false, []],
  ['ru', 'Ну спасибо огромное, опять всё сломали', 'negative', null, true, ['complaint']],
  ['ru', 'Никому не рекомендую этот магазин', 'positive', null, true, ['complaint']],
  ['ru', 'Доставили вовремя, претензий нет', 'positive', null, false, []],
  ['ru', 'Ну такое себе, ожидал большего', 'negative', null, true, ['complaint']],
  ['ru', 'Ну такое себе, ожидал большего', 'weak-negative', null, false, []],
  ['ru', 'Курьер вежливый, но вкус уже не тот', 'mixed', 2, true, ['complaint']],
  ['ru', 'Курьер вежливый, но вкус уже не тот', 'mixed', null, false, []],
  ['ru', 'Как сообщает пресс-служба банка, приложение не работает из-за сбоя на серверах', 'neutral', null, false, 'news'],
  ['ru', 'По данным банка, сбой устранён, но у меня приложение до сих пор не работает', 'negative', null, true, ['complaint']],
  ['ru', 'Реклама. Не работает старая карта? Оформите новую по ссылке в профиле, промокод SALE20', 'neutral', null, false, 'ad'],
  ['ru', 'Банк не работает? Заработок без вложений от 5000 в день, пишите в лс', 'neutral', null, false, 'spam'],
  ['ru', 'ужасный сервис #kaspi #bank #деньги #кредит https://t.me/x', 'negative', null, false, 'spam'],
  ['ru', 'Почему стоит открыть депозит у нас?', 'neutral', null, false, 'own_post', { ownPost: true }],
  ['ru', 'Не приходит СМС с кодом', 'negative', null, false, 'answered', { answered: true }],
  ['ru', 'Как мы перестали бояться кредитов?', 'neutral', null, false, 'ad', { sponsored: true }],

  // Kazakh: Cyrillic, Latin, and Cyrillic typed on a Russian layout
  ['kk', 'Қосымша екі күннен бері жұмыс істемейді', 'negative', null, true, ['complaint']],
  ['kk', 'Kaspi qosymshasy istemeidi, aqshamdy qaitaryñyz', 'negative', null, true, ['complaint']],
  ['kk', 'Косымша истемейди, акшамды кайтарыныз', 'neutral', null, true, ['complaint']],
  ['kk', 'Бүгін жеткізу бола ма?', 'neutral', null, true, ['question']],
  // No complaint words, but the model reads it as negative: a negative question is a complaint too.
  ['kk', 'Дүкенде кезек өте ұзын. Неге кассалар аз?', 'negative', null, true, ['complaint', 'question']],
  ['kk', 'Дүкенде кезек өте ұзын. Неге кассалар аз?', 'neutral', null, true, ['question']],
  ['kk', 'Картаны онлайн ашуға боладыма?', 'neutral', null, true, ['question']],
  ['kk', 'Тапсырысым қашан келеді?', 'neutral', null, true, ['question']],
  ['kk', 'Айтыңызшы, депозитті қалай жабуға болады', 'neutral', null, true, ['question']],
  ['kk', 'Ақшаны қайтармасаңыз, сотқа беремін', 'negative', null, true, ['legal_threat', 'complaint']],
  ['kk', 'Сіздің кафеде тамақтан уланып қалдым', 'negative', null, true, ['safety']],
  ['kk', 'Бұлар алаяқтар, ақшамды ұрлады', 'negative', null, true, ['fraud_claim']],
  ['kk', 'Енді сіздің банкті пайдаланбаймын', 'negative', null, true, ['churn_threat']],
  ['kk', 'Курьер кешікті, очень долго ждала, сервис нашар', 'negative', null, true, ['complaint']],
  ['kk', 'Керемет қызмет, көп рахмет!', 'positive', null, true, ['praise']],
  ['kk', 'Рахмет, бәрі уақытында келді', 'unscored', 5, true, ['praise']],
  ['kk', 'Рахмет', 'neutral', null, false, []],
  ['kk', 'Бұл дүкен маған мүлдем ұнамады', 'negative', null, true, ['complaint']],
  ['kk', 'Бұл дүкен маған мүлдем ұнамады', 'weak-negative', null, false, []],
  ['kk', 'Банктің баспасөз қызметі хабарлайды: қосымша техникалық жұмыстарға байланысты істемейді', 'neutral', null, false, 'news'],
  ['kk', 'Kaspi мен Halyk баспасөз қызметі хабарлайды: қосымшалар істемейді', 'neutral', null, false, 'news'],
  ['kk', 'Банк хабарлады, ақау жойылды дейді. Мен әлі кіре алмаймын, қосымша ашылмайды', 'negative', null, true, ['complaint']],
  ['kk', 'Жаңа тариф туралы сұрақтарыңыз бар ма?', 'neutral', null, false, 'own_post', { ownPost: true }],
  ['kk', 'Курьер кешікті', 'negative', null, false, 'answered', { answered: true }],
  ['kk', 'Жарнама. Несие керек пе? Промокод QAZ2024', 'neutral', null, false, 'ad'],
  ['kk', 'Салымсыз табыс! Ақша керек пе? https://t.me/x', 'neutral', null, false, 'spam'],

  // Uzbek: Latin (any apostrophe for o'/g') and Cyrillic
  ['uz', 'Ilova ikki kundan beri ishlamayapti', 'negative', null, true, ['complaint']],
  ['uz', 'Pulimni qaytaring, buyurtma hali ham kelmadi', 'negative', null, true, ['complaint']],
  ['uz', 'Илова ишламаяпти, пулимни қайтаринг!', 'negative', null, true, ['complaint']],
  ['uz', 'Жуда ёмон хизмат', 'neutral', null, true, ['complaint']],
  ['uz', 'Bugun yetkazib berish bormi?', 'neutral', null, true, ['question']],
  ['uz', 'Картани онлайн очса бўладими?', 'neutral', null, true, ['question']],
  ['uz', 'Kartam qachon tayyor bo‘ladi?', 'neutral', null, true, ['question']],
  ['uz', 'Pulimni qaytarmasangiz sudga beraman', 'negative', null, true, ['legal_threat', 'complaint']],
  ['uz', 'Restoraningizdagi ovqatdan zaharlanib qoldim', 'negative', null, true, ['safety']],
  ['uz', 'Bular firibgarlar, meni aldashdi', 'negative', null, true, ['fraud_claim']],
  ['uz', 'Boshqa foydalanmayman, ilovani o‘chirib tashladim', 'negative', null, true, ['churn_threat']],
  ['uz', 'Juda zo‘r xizmat, katta rahmat!', 'positive', null, true, ['praise']],
  ['uz', 'Ажойиб хизмат, раҳмат', 'unscored', 4, true, ['praise']],
  ['uz', 'Rahmat', 'neutral', null, false, []],
  ['uz', 'Menga umuman yoqmadi', 'negative', null, true, ['complaint']],
  ['uz', 'Menga umuman yoqmadi', 'weak-negative', null, false, []],
  ['uz', 'Bank matbuot xizmati xabar berdi: ilova texnik ishlar sababli ishlamayapti', 'neutral', null, false, 'news'],
  ['uz', 'Bank xabar berdi, nosozlik bartaraf etildi. Lekin menga hali ham pul kelmadi', 'negative', null, true, ['complaint']],
  ['uz', 'Yangi kartamiz haqida savollar bormi?', 'neutral', null, false, 'own_post', { ownPost: true }],
  ['uz', 'Kuryer kechikdi', 'negative', null, false, 'answered', { answered: true }],
  ['uz', 'Reklama. Kredit kerakmi? Promokod UZ2024 bilan chegirma', 'neutral', null, false, 'ad'],
  ['uz', 'Sarmoyasiz daromad! Pul kerakmi? https://t.me/x', 'neutral', null, false, 'spam'],

  // English
  ['en', "The app doesn't work since the update", 'negative', null, true, ['complaint']],
  ['en', 'I was charged twice for one order, I want a refund', 'negative', null, true, ['complaint']],
  ['en', 'Still waiting for my package, where is it?', 'negative', null, true, ['complaint', 'question']],
  ['en', 'How do I change my PIN?', 'neutral', null, true, ['question']],
  ['en', 'Why would anyone bank here?! Awful service', 'negative', null, true, ['complaint', 'question']],
  ['en', 'If this is not fixed I will sue you and call my lawyer', 'negative', null, true, ['legal_threat']],
  ['en', 'Got food poisoning after eating your burger', 'negative', null, true, ['safety']],
  ['en', 'These scammers made an unauthorized charge on my card', 'negative', null, true, ['fraud_claim']],
  ['en', "I'm cancelling my account and switching to another bank", 'negative', null, true, ['churn_threat']],
  ['en', 'Thank you so much, best customer service ever!', 'positive', null, true, ['praise']],
  ['en', 'Thank you so much for nothing', 'negative', null, true, ['complaint']],
  ['en', 'Would not recommend it to anyone', 'positive', null, true, ['complaint']],
  ['en', 'Meh, not what I expected', 'negative', null, true, ['complaint']],
  ['en', 'Meh, not what I expected', 'weak-negative', null, false, []],
  ['en', 'Nice staff but the food was cold', 'mixed', 2, true, ['complaint']],
  ['en', 'According to the company, the app was not working for most users', 'neutral', null, false, 'news'],
  ['en', 'The bank announced the outage is over, but my app still does not work', 'negative', null, true, ['complaint']],
  ['en', 'Tired of an app that keeps crashing? Use code SAVE10 for 10% off #ad', 'neutral', null, false, 'ad'],
  ['en', 'Bank not working? Free BTC giveaway, DM me', 'neutral', null, false, 'spam'],
  ['en', 'Any questions about our new card?', 'neutral', null, false, 'own_post', { ownPost: true }],
  ['en', 'My order never arrived', 'negative', null, false, 'answered', { answered: true }],
  ['en', 'Is your bank charging you twice?', 'neutral', null, false, 'ad', { sponsored: true }],
];

describe('assessActionability', () => {
  it.each(rows)('%s: %s (%s, rating %s)', (lang, text, mood, rating, actionable, expected, flags) => {
    const result = assess(lang, text, mood, rating, flags);
    expect(result.actionable).toBe(actionable);
    if (typeof expected === 'string') {
      expect(result.excludedBy).toBe(expected);
      expect(result.reasons.length).toBeGreaterThan(0);
    } else {
      expect(result.excludedBy).toBeNull();
      expect(result.reasons).toEqual(expected);
    }
  });

  it('has at least 12 rows per language', () => {
    for (const lang of ['ru', 'kk', 'uz', 'en'] as const) {
      expect(rows.filter((row) => row[0] === lang).length).toBeGreaterThanOrEqual(12);
    }
  });

  it('checks exclusions in order: own post, answered, ad, spam, news', () => {
    const text = 'Реклама. Как сообщает пресс-служба, не работает? Без вложений #a #b #c #d #e';
    expect(assess('ru', text, 'negative', null, { ownPost: true, answered: true }).excludedBy).toBe('own_post');
    expect(assess('ru', text, 'negative', null, { answered: true }).excludedBy).toBe('answered');
    expect(assess('ru', text, 'negative', null).excludedBy).toBe('ad');
    expect(assess('ru', text.replace('Реклама. ', ''), 'negative', null).excludedBy).toBe('spam');
  });

  it('leaves a mention with no reason unexcluded', () => {
    expect(assess('ru', 'Почему стоит открыть депозит у нас? Рассказываем', 'neutral', null, { ownPost: true }))
      .toEqual({ actionable: false, reasons: ['question'], excludedBy: 'own_post' });
    expect(assess('ru', 'Новый офис открылся на Абая', 'neutral', null, { ownPost: true }))
      .toEqual({ actionable: false, reasons: [], excludedBy: null });
  });

  it('does not thank a 1-star review, whatever the label', () => {
    expect(assess('ru', 'Огромное спасибо, всё отлично', 'positive', 1).reasons).toEqual(['complaint']);
  });

  it('acts on a negative label from confidence 0.6, even when the model itself is sure of it', () => {
    const text = 'Ну такое себе, ожидал большего';
    const at = (confidence: number) => assessActionability({
      text, lang: 'ru', sentiment: { label: 'negative', score: -0.4, confidence, lowConfidence: false },
      rating: null, ownPost: false, answered: false,
    });
    expect(at(0.59).actionable).toBe(false);
    expect(at(0.6)).toEqual({ actionable: true, reasons: ['complaint'], excludedBy: null });
  });

  it('ignores a rating outside 1..5', () => {
    expect(assess('ru', 'Обычная доставка', 'neutral', 0).actionable).toBe(false);
    expect(assess('ru', 'Обычная доставка', 'neutral', 2).reasons).toEqual(['complaint']);
  });
});

describe('reason priority', () => {
  // Every reason, in the reverse of its priority in the text.
  const all = 'Спасибо большое! Подскажите, почему приложение не работает? Ухожу к конкурентам, вы мошенники, '
    + 'подам в суд: я отравился.';

  it('lists every reason strongest first, whatever their order in the text', () => {
    expect(findActionReasons(all, 'ru')).toEqual([
      'safety', 'legal_threat', 'fraud_claim', 'churn_threat', 'complaint', 'question', 'praise',
    ]);
    expect([...ACTION_REASONS].sort()).toEqual([...findActionReasons(all, 'ru')].sort());
  });

  it('keeps praise last and only with a positive mention', () => {
    expect(assess('ru', all, 'positive', null).reasons.at(-1)).toBe('praise');
    expect(assess('ru', all, 'negative', null).reasons).not.toContain('praise');
  });
});

describe('findActionReasons word forms', () => {
  it.each<[Lang, string, ActionReason]>([
    ['ru', 'Заблокировали карту', 'complaint'],
    ['ru', 'Счёт заблокирован', 'complaint'],
    ['ru', 'Блокируют переводы', 'complaint'],
    ['ru', 'Деньги не пришли', 'complaint'],
    ['ru', 'Ждал 2 часа', 'complaint'],
    ['ru', 'Мошенники', 'fraud_claim'],
    ['ru', 'Жертва мошенников', 'fraud_claim'],
    ['ru', 'Это мошенничество', 'fraud_claim'],
    ['ru', 'Обратилась к юристу', 'legal_threat'],
    ['ru', 'Подам в суд', 'legal_threat'],
    ['ru', 'Жалоба в АРРФР', 'legal_threat'],
    ['ru', 'Отравился', 'safety'],
    ['ru', 'Отравление', 'safety'],
    ['ru', 'Закрою счёт', 'churn_threat'],
    ['ru', 'Всё, ухожу!', 'churn_threat'],
    ['ru', 'Больше не буду пользоваться', 'churn_threat'],
    ['kk', 'Ақшамды қайтарыңыз', 'complaint'],
    ['kk', 'Алаяқтарға сенбеңіз', 'fraud_claim'],
    ['kk', 'Сотқа беремін', 'legal_threat'],
    ['kk', 'Улану', 'safety'],
    ['uz', 'Firibgarlar', 'fraud_claim'],
    ['uz', "Pulimni qaytaring", 'complaint'],
    ['uz', 'Zaharlanish', 'safety'],
    ['uz', "O'chirib tashlayman", 'churn_threat'],
    ['uz', 'Sudga beraman', 'legal_threat'],
    ['en', 'They charged me twice', 'complaint'],
    ['en', 'Unauthorized charges again', 'fraud_claim'],
    ['en', 'Filing a lawsuit', 'legal_threat'],
    ['en', 'Deleting the app', 'churn_threat'],
  ])('%s: %s → %s', (lang, text, reason) => {
    expect(findActionReasons(text, lang)).toContain(reason);
  });

  it.each<[Lang, string]>([
    ['ru', 'Судя по отзывам, норм'],
    ['ru', 'Безопасно и удобно'],
    ['ru', 'Без претензий'],
    ['ru', 'Пожарная безопасность: новая проверка в ТЦ'],
    ['ru', 'Ухожу в отпуск, ребята'],
    ['kk', 'Алматы мен Астанада жаңа филиал ашылды'],
    ['kk', 'Қауіпсіз және ыңғайлы'],
    ['uz', 'Xavfsiz va qulay'],
    ['en', 'This app is fire'],
    ['en', 'Switching to dark mode now'],
  ])('%s: finds nothing in "%s"', (lang, text) => {
    expect(findActionReasons(text, lang)).toEqual([]);
  });

  it('reads Russian inside Kazakh and Uzbek, and every lexicon for an undetected language', () => {
    expect(findActionReasons('Қосымша не работает', 'kk')).toEqual(['complaint']);
    expect(findActionReasons('Илова не работает', 'uz')).toEqual(['complaint']);
    expect(findActionReasons('Қосымша не работает', 'en')).toEqual([]);
    expect(findActionReasons('scam, ishlamayapti', 'other')).toEqual(['fraud_claim', 'complaint']);
  });
});
