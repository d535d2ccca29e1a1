import { francAll } from 'franc';
import { describe, expect, it } from 'vitest';
import { detectLanguage, rankTrigrams, type Lang } from './language.ts';

const cases: [Lang, string][] = [
  ['ru', 'Доставка опять опоздала на два часа, курьер не отвечает'],
  ['ru', 'Спасибо, всё пришло целым и вовремя'],
  ['ru', 'Приложение банка не открывается после обновления'],
  ['ru', 'ужасный сервис'],
  ['ru', 'Привет'],
  ['ru', '@support_bank почему списали комиссию? https://example.com/x'],
  ['kk', 'Қосымша өте ыңғайлы, рахмет сіздерге'],
  ['kk', 'Бұл ойын маған ұнамады'],
  ['kk', 'Тапсырыс әлі келген жоқ'],
  ['kk', 'Жақсы қызмет көрсетеді'],
  ['kk', 'Оте жаксы ойын екен'],
  ['kk', 'Óte jaqsy qosymsha, rahmet!'],
  ['kk', 'Qazaqşa nūsqasy joq, öte jaman'],
  ['kk', 'ote keremet kitap eken'],
  ['kk', 'Приложение нормальное, бірақ қазақ тілі жоқ'],
  ['kk', 'Курьер кешікті, очень долго ждала, сервис нашар'],
  ['kk', 'Доставка быстрая, рахмет үлкен'],
  ['uz', "Juda yaxshi ilova, hammaga tavsiya qilaman"],
  ['uz', "Buyurtma hali ham yo'q, pulimni qaytaring"],
  ['uz', 'Mahsulot sifati zoʻr, rahmat'],
  ['uz', 'Bu dastur menga yoqmadi, ko‘p xato bor'],
  ['uz', 'Ilova ishlamayapti'],
  ['uz', 'Жуда зўр хизмат, раҳмат'],
  ['uz', 'Буюртма вақтида келмади, ёмон'],
  ['uz', 'Телефон яхши экан, тавсия қиламан'],
  ['en', 'The app keeps crashing every time I open it'],
  ['en', 'Great service, thank you so much!'],
  ['en', 'Worst delivery ever'],
  ['en', "It's not bad at all"],
  ['en', "Samsung's new phone arrives tomorrow"],
  ['en', "I'll be there at eight o'clock"],
  ['other', '😍😍😍👍'],
  ['other', '12345 !!! 999'],
  ['other', 'https://example.com/page?id=3'],
  ['other', '@someone #'],
  ['other', 'Die Lieferung kam leider viel zu spät und die Verpackung war beschädigt'],
  ['other', "Le service client ne répond jamais, c'est vraiment décevant"],
  ['other', 'Дякуємо, доставка прийшла вчора'],
  ['en', "O'Brien said the refund is on its way"],
];

describe('detectLanguage', () => {
  it.each(cases)('%s: %s', (lang, text) => {
    expect(detectLanguage(text)).toBe(lang);
  });

  it('covers every language in the table', () => {
    expect(new Set(cases.map(([lang]) => lang))).toEqual(new Set(['ru', 'kk', 'uz', 'en', 'other']));
  });

  it('ignores handles and links when they are the only Latin text', () => {
    expect(detectLanguage('@kaspi_bank https://kaspi.kz приложение снова зависает при оплате')).toBe('ru');
  });

  it('reads hashtag words once the sign is gone', () => {
    expect(detectLanguage('#өтежақсы')).toBe('kk');
  });
});

describe('detectLanguage on long texts', () => {
  const englishReview =
    'I have been using this budgeting app for about two years now and it has been great for me and my family. ';

  it('settles Latin text with many common English words as en without trigrams', () => {
    expect(detectLanguage(englishReview.repeat(8))).toBe('en');
    expect(detectLanguage('Is it the Bundesliga or the Eredivisie tonight?')).toBe('en');
  });

  it('still lets Kazakh or Uzbek words win over a high English share', () => {
    expect(detectLanguage(`${englishReview} rahmet, öte jaqsy`)).toBe('kk');
    expect(detectLanguage(`${englishReview} juda yaxshi`)).toBe('uz');
  });

  it('finds marker letters and words anywhere in a long text', () => {
    const russian = 'Очень долго ждали курьера, но потом всё привезли аккуратно и вежливо. '.repeat(6);
    expect(detectLanguage(russian)).toBe('ru');
    expect(detectLanguage(`${russian} Рахмет үлкен`)).toBe('kk');
    expect(detectLanguage(`${russian} жуда яхши`)).toBe('uz');
    expect(detectLanguage('Die Lieferung kam leider viel zu spät und die Verpackung war beschädigt. '.repeat(8))).toBe('other');
  });

  it('reads Uzbek apostrophes with original casing, even after İ changes the lower-cased length', () => {
    expect(detectLanguage("İzmir'de o'tirdik, choy ichdik")).toBe('uz');
    expect(detectLanguage("Bugun bozorga bordik va u yerda ko'p narsalar sotib oldik")).toBe('uz');
  });

  it('leaves text written mostly in another script to franc, which gives up', () => {
    expect(detectLanguage('مرحبا بكم في متجرنا الجديد Quick')).toBe('other');
  });
});

describe('rankTrigrams', () => {
  const only = ['rus', 'kaz', 'uzn', 'eng', 'deu', 'fra', 'spa', 'por', 'ita', 'nld', 'tur', 'pol'];
  const samples = [
    'The parcel arrived two days late and the box was wet',
    'Очень долго ждали курьера, но потом всё привезли аккуратно',
    'Мен бул дукенге енди бармаймын, тауарлар сапасыз',
    'Buyurtma kechikdi, kuryer telefonni olmadi',
    'Le colis est arrivé avec deux jours de retard',
    'Die Lieferung kam leider viel zu spät',
    'مرحبا بكم في متجرنا الجديد Quick',
    'mixed текст with both алфавита and words',
    'short',
  ];

  it.each(samples)('matches franc on %s', (sample) => {
    const expected = francAll(sample, { only, minLength: 20 });
    const actual = rankTrigrams(sample);
    if (expected[0]?.[0] === 'und') expect(actual).toBeNull();
    else expect(actual).toEqual(expected);
  });
});
