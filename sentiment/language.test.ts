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

describe('detectLanguage on tagged and short English', () => {
  it.each([
    '$TSLA Cybertruck Recall Widens #TSLA #EV',
    '#AMZN Prime Day Sales Beat Forecasts, Cloud Unit Slows and More',
    'Have Netflix Subscriptions Peaked? #NFLX',
  ])('drops cashtags and discounts hashtag words: %s', (text) => {
    expect(detectLanguage(text)).toBe('en');
  });

  it.each(['@Spotify honestly sucks', '.@uber fix yourself', 'Excellent wireless charger.'])(
    'takes plain English words or a close English runner-up over other: %s',
    (text) => {
      expect(detectLanguage(text)).toBe('en');
    },
  );

  it('lets English clitics outweigh a stray o\'/g\' apostrophe', () => {
    expect(detectLanguage("Who's going to the keynote? G'day everyone")).toBe('en');
  });

  it('has nothing to say about cashtags alone', () => {
    expect(detectLanguage('$AAPL $MSFT $GOOG')).toBe('other');
  });

  it.each([
    'Die App ist mega, aber der Akku hält nicht lange',
    'Neues Handy bestellt, Lieferung kommt morgen #apple',
    'Le nouveau téléphone est top mais la batterie tient mal #samsung',
    'Yeni telefon aldım ama şarj çabuk bitiyor #apple',
    'Kargo çok hızlı geldi, teşekkürler',
    'Mi pedido llegó roto y nadie me responde',
    'Zamówienie doszło szybko, polecam',
  ])('keeps other Latin languages out of English: %s', (text) => {
    expect(detectLanguage(text)).toBe('other');
  });
});

describe('detectLanguage on Kazakh typed without its letters', () => {
  it.each([
    ['words of the list', 'Алла разы болсын'],
    ['кы, гы, жы, шы and ы- that Russian never spells', 'Мыкты кызмет'],
    ['кы inside a word', 'Карта аркылы толеу'],
    ['a word opening with ы', 'Ыстык тамак'],
    ['-пейди', 'Хабарлама жетпейди'],
    ['-ыздар', 'Калайсыздар'],
    ['-ып and -мын', 'Сабак окып отырмын'],
    ['-майд cut short', 'Мулдем ашылмайд'],
    ['-мын with й typed as и', 'Кире алмаимын'],
  ])('reads %s as Kazakh', (_rule, text) => {
    expect(detectLanguage(text)).toBe('kk');
  });

  it.each([
    ['Russian function words outweigh a Kazakh place name', 'Кызыл и Абакан, поездка на выходные'],
    ['hashtag words are no evidence', 'Отличный концерт #Кызыл #Тува'],
    ['two-letter laughter is no spelling', 'Гы-гы, смешно'],
    ['-ейди after р is a Russian imperative', 'Перейди по ссылке и скачай'],
    ['сыр is Russian', 'Купил сыр и хлеб'],
    ['a Russian function word overrules kaz trigrams', 'Билайн, как же ты меня бесит'],
    ['a Russian function word overrules uzn trigrams', 'Кредит малому бизнесу от банка'],
    ['English hashtags do not make it Latin', 'Очень жду новый сезон #GameOfThrones #HBO #winteriscoming'],
  ])('keeps Russian: %s', (_rule, text) => {
    expect(detectLanguage(text)).toBe('ru');
  });

  it('reads қ/ғ without Uzbek signs as Kazakh, even without ы', () => {
    expect(detectLanguage('Ақ сақал ата')).toBe('kk');
    expect(detectLanguage('Ағаш пен тас')).toBe('kk');
  });

  it('still reads қ/ғ with Uzbek endings, ё or ъ as Uzbek', () => {
    expect(detectLanguage('Китобни вақтида топширдим')).toBe('uz');
    expect(detectLanguage('Ёқимли тақдимот')).toBe('uz');
    expect(detectLanguage('Эълон қилинди')).toBe('uz');
  });
});

describe('detectLanguage on Latin Kazakh', () => {
  it('reads ǵ, and ı with ń or an acute vowel, as Kazakh', () => {
    expect(detectLanguage('Qyzmet ǵajap')).toBe('kk');
    expect(detectLanguage('Sálem, qalaısyń')).toBe('kk');
  });

  it('recomposes combining accents before reading the letters', () => {
    expect(detectLanguage('Mag\u0301an bul qyzmet unaıdy')).toBe('kk');
    expect(detectLanguage('Qyzmet o\u0301te qolaıly')).toBe('kk');
  });

  it('leaves ı with q alone to Uzbek typed on a Turkish keyboard', () => {
    expect(detectLanguage("Bu o'yin juda qiziq, ammo tıklash qiyin")).toBe('uz');
  });

  it('lets common Uzbek words hold against English loanwords', () => {
    expect(detectLanguage('Oddiy qilib aytganda, pretty good')).toBe('uz');
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
