import { describe, expect, it } from 'vitest';
import { foldForMatch, foldHomoglyphs } from './normalize.ts';
import { brandQuery, compileQuery, highlight, matchTitleAndText, MAX_QUERY_DEPTH, QuerySyntaxError } from './query.ts';

// Our own texts. Look-alike letters are spelled so the test shows which script each is: escapes for the
// Cyrillic ones, string pieces for the Latin ones.
const CYR_A = '\u0430';

const russian: [query: string, text: string, expected: boolean][] = [
  ['колеса', 'Поменял колёса на зимние, наконец-то', true],
  ['колеса', 'В колесах опять гвоздь', true],
  ['колёса', 'Новые колеса уже стоят', true],
  ['банк', 'Очередь в банке огромная', true],
  ['банк', 'Перевёл деньги через банк, банком доволен', true],
  ['банк', 'Рейтинг банков за год', true],
  ['банк', 'Банкет в ресторане удался', false],
  ['"банк"', 'Купил банку огурцов', false],
  ['елка', 'Ёлка в торговом центре', true],
  ['"верните деньги"', 'Верните  деньги немедленно!', true],
  ['"верните деньги"', 'Верните мне деньги', false],
  ['"верните деньги"', 'Вернуть деньги невозможно', false],
  ['«верните деньги» OR “money back”', 'Верните деньги!', true],
  ['верните деньги', 'Деньги так и не пришли, верните хоть часть', true],
  ['ромашка', 'Ромашк' + 'a' + ' опять закрыта', true],
  ['ромашка NOT (чай OR аптечная)', 'В магазине Ромашка нет сдачи', true],
  ['ромашка NOT (чай OR аптечная)', 'Аптечная ромашка от простуды', false],
  ['ромашка NOT (чай OR аптечная)', 'Заварила чай с ромашкой', false],
  ['каспи NOT каспий*', 'Оплатил через Каспи', true],
  ['каспи NOT каспий*', 'Каспий обмелел', false],
  ['сбер*', 'Сбербанк опять завис', true],
  ['сбер*', 'Экосбер не при чём', false],
  ['доставка NEAR/3 опоздала', 'Доставка сегодня снова опоздала', true],
  ['доставка NEAR/3 опоздала', 'Опоздала на час ваша доставка', true],
  ['доставка NEAR/2 опоздала', 'Опоздала на час ваша доставка', false],
  ['ромашка OR лютик', 'Лютик открыл новый магазин', true],
  ['ромашка -чай', 'Ромашка и чай', false],
  ['ромашка магазин', 'Магазины Ромашки закрыты', true],
  ['ромашка магазин', 'Только ромашка', false],
  // An abbreviation takes its case endings written straight onto the capitals; a clipped name declines as a word.
  ['МТС', 'Опять звонил в МТС', true],
  ['МТС', 'Ушёл из МТСа к другому оператору', true],
  ['МТС', 'Пишу МТСу третий раз', true],
  ['МТС', 'Недоволен МТСом', true],
  ['МТС', 'В МТСе снова сбой', true],
  ['мтс', 'Сотрудники МТСов бастуют', true],
  ['МТС', 'Склад мтсклад закрыт на учёт', false],
  ['МТС', 'Проект мтсоциум запущен', false],
  ['ВТБ', 'Кредит во ВТБ одобрили', true],
  ['ВТБ', 'ВТБшники не перезвонили', false],
  ['Сбер', 'Ушла из Сбера', true],
  ['Сбер', 'Написала Сберу жалобу', true],
  ['Сбер', 'Сбербанк опять завис', false],
];

const kazakh: [query: string, text: string, expected: boolean][] = [
  ['дүкен', 'Жаңа дүкенге бардым', true],
  ['дүкен', 'Дүкендерде кезек көп', true],
  // Typed on a Russian layout: ү as у.
  ['дүкен', 'Дукенге кірдім', true],
  ['kaspi', 'Kaspiден ақша аудардым', true],
  ['kaspi', 'Kaspi-ге төледім', true],
  ['kaspi', "Kaspi'дің қосымшасы қатып қалды", true],
  ['kaspi', 'Kaspiмен төлеу мүмкін емес', true],
  ['банк', 'Банкке бару керек', true],
  ['банк', 'Банктің қызметі нашар', true],
  ['каспи', 'Каспиға кірдім', true],
  ['Қазпошта', 'Қазпоштадан сәлемдеме келмеді', true],
  ['Қазпошта', 'Казпочта работает медленно', false],
  ['қазпош*', 'казпоштага хат жібердім', true],
  ['"ақшамды қайтарыңыз"', 'Ақшамды қайтарыңыз!', true],
  ['"ақшамды қайтарыңыз"', 'Ақшаны қайтарыңыз', false],
  ['halyk', "Halyk'та кезек өте ұзын", true],
  ['kaspi NEAR/2 төлем', 'Төлем өтпей жатыр Kaspi арқылы', true],
  ['kaspi NEAR/1 төлем', 'Төлем өтпей жатыр Kaspi арқылы', false],
  ['жеткізу NOT kaspi', 'Жеткізу кешікті', true],
  ['жеткізу NOT kaspi', 'Kaspi жеткізу кешікті', false],
  ['kaspi', '#Kaspi тағы істемейді', true],
];

const english: [query: string, text: string, expected: boolean][] = [
  ['kaspi', "Kaspi's new app is slow", true],
  ['kaspi', 'KASPI support never answers', true],
  ['kaspi', `K${CYR_A}spi with a Cyrillic a`, true],
  ['kaspi', 'Sailing the Kaspian sea', false],
  ['refund', 'They refunded me after a week', true],
  ['refund', 'Refunds take weeks', true],
  ['"money back"', 'I want my money back', true],
  ['"money back"', 'Back my money, please', false],
  ['deliver*', 'Delivery was late again', true],
  ['kaspi AND support', 'Support of Kaspi is great', true],
  ['kaspi support', 'Kaspi rocks', false],
  ['kaspi OR halyk', 'Halyk bank app', true],
  ['kaspi or halyk', 'halyk', true],
  ['kaspi NOT casino', 'Kaspi casino bonus!!!', false],
  ['kaspi -casino', 'Kaspi app update', true],
  ['(kaspi OR halyk) NEAR/2 (app OR application)', 'The Halyk mobile application crashed', true],
  ['kaspi NEAR/0 bank', 'Kaspi Bank', true],
  ['kaspi NEAR/0 bank', 'bank kaspi', true],
  ['kaspi NEAR/0 bank', 'Kaspi mobile bank', false],
  ['kaspi', 'love #kaspi', true],
  ['kaspi', '@kaspi_bank help me', true],
  ['"kaspi bank"', '@kaspi_bank help me', true],
  ['bank', 'so #KaspiBank', true],
  ['bank', 'KaspiBank without a hashtag', false],
  ['payme', "Paymeda pul o'tkazdim", true],
  ['"kaspi.kz"', 'go to kaspi.kz now', true],
];

describe('compileQuery: Russian', () => {
  it.each(russian)('%s | %s → %s', (query, text, expected) => {
    expect(compileQuery(query).match(text) !== null).toBe(expected);
  });
});

describe('compileQuery: Kazakh', () => {
  it.each(kazakh)('%s | %s → %s', (query, text, expected) => {
    expect(compileQuery(query).match(text) !== null).toBe(expected);
  });
});

describe('compileQuery: English', () => {
  it.each(english)('%s | %s → %s', (query, text, expected) => {
    expect(compileQuery(query).match(text) !== null).toBe(expected);
  });
});

describe('highlights', () => {
  const marked = (query: string, text: string) => {
    const spans = compileQuery(query).match(text);
    return spans && highlight(text, spans);
  };

  it.each([
    ['колеса', 'Поменял колёса, а колесо старое', 'Поменял [[колёса]], а [[колесо]] старое'],
    ['kaspi', 'Kaspiден ақша', '[[Kaspi]]ден ақша'],
    ['bank', '#KaspiBank', '#Kaspi[[Bank]]'],
    ['"верните деньги"', 'Срочно верните  деньги!', 'Срочно [[верните  деньги]]!'],
    // Only the pair within the distance is marked, not every kaspi in the text.
    ['kaspi NEAR/1 bank', 'kaspi x bank and much later kaspi again', '[[kaspi]] x [[bank]] and much later kaspi again'],
    // What NOT excludes is not marked; every side of an OR that matched is.
    ['(kaspi OR halyk) NOT casino', 'Halyk and Kaspi', '[[Halyk]] and [[Kaspi]]'],
    ['kasp*', 'kaspibank.kz', '[[kaspibank]].kz'],
  ])('%s | %s', (query, text, expected) => {
    expect(marked(query, text)).toBe(expected);
  });

  it('gives offsets into the original text even when folding changes lengths', () => {
    // U+FB01 "ﬁ" is one unit that NFKC makes two; the emoji is a surrogate pair.
    const text = '😀 \ufb01nance by Ｋａｓｐｉ';
    const spans = compileQuery('finance OR kaspi').match(text);
    expect(spans).toEqual([
      { start: 3, end: 9 },
      { start: 13, end: 18 },
    ]);
    expect(highlight(text, spans!)).toBe('😀 [[\ufb01nance]] by [[Ｋａｓｐｉ]]');
  });

  it('marks with a custom function and merges overlapping spans', () => {
    expect(highlight('kaspi bank', [{ start: 0, end: 5 }, { start: 3, end: 10 }], (s) => `<b>${s}</b>`)).toBe('<b>kaspi bank</b>');
    expect(highlight('kaspi bank', [])).toBe('kaspi bank');
  });

  it('splits the highlights of a title and a text matched together', () => {
    const query = compileQuery('"kaspi bank" OR refund');
    expect(matchTitleAndText(query, 'About Kaspi', 'Bank refund please')).toEqual({
      title: [{ start: 6, end: 11 }],
      text: [{ start: 0, end: 4 }, { start: 5, end: 11 }],
    });
    expect(matchTitleAndText(query, null, 'refund')).toEqual({ title: [], text: [{ start: 0, end: 6 }] });
    expect(matchTitleAndText(query, 'nothing', 'here')).toBeNull();
  });
});

describe('brandQuery', () => {
  it('ORs keywords and aliases: one word a term, several their word forms side by side', () => {
    const query = brandQuery({ keywords: ['Ромашка', 'жетысу маркет'], aliases: ['romashka'] });
    expect(query.source).toBe('Ромашка OR (жетысу NEAR/0 маркет) OR romashka');
    expect(query.match('Жетысу   Маркет — лучший')).not.toBeNull();
    expect(query.match('Купила в Жетысу Маркете творог')).not.toBeNull();
    expect(query.match('Жетысу, а потом в другой маркет')).toBeNull();
    expect(query.match('Только жетысу')).toBeNull();
    expect(query.match('Магазины Ромашки')).not.toBeNull();
    expect(query.match("Romashka's delivery was late")).not.toBeNull();
  });

  it('uses the brand query when set, the keywords when it is null or blank', () => {
    expect(brandQuery({ query: 'ромашка NOT чай', keywords: ['лютик'] }).match('лютик')).toBeNull();
    expect(brandQuery({ query: null, keywords: ['лютик'] }).match('лютик')).not.toBeNull();
    expect(brandQuery({ query: '  ', keywords: ['лютик'] }).match('лютик')).not.toBeNull();
  });

  it('matches nothing without a usable keyword', () => {
    expect(brandQuery({ keywords: ['  ', '#'] }).match('anything at all')).toBeNull();
  });
});

describe('syntax errors', () => {
  const errors: [query: string, column: number, message: RegExp][] = [
    ['', 1, /^column 1: empty query$/],
    ['   ', 1, /empty query/],
    ['(kaspi OR halyk', 16, /^column 16: expected "\)" to close "\(" at column 1$/],
    ['kaspi (bank OR halyk', 21, /expected "\)" to close "\(" at column 7/],
    ['kaspi)', 6, /"\)" has no matching "\("/],
    ['"верните деньги', 1, /unclosed quote/],
    ['«верните деньги"', 1, /unclosed quote.*»/],
    ['kaspi NEAR bank', 7, /^column 7: NEAR needs a distance, e.g. NEAR\/3$/],
    ['kaspi near/x bank', 7, /NEAR needs a distance/],
    ['kaspi NEAR/500 bank', 7, /at most 100 words/],
    ['kaspi AND', 7, /"AND" needs something after it/],
    ['kaspi OR', 7, /"OR" needs something after it/],
    ['(kaspi NOT)', 8, /"NOT" needs something after it/],
    ['OR kaspi', 1, /"OR" needs something before it/],
    ['kaspi AND OR bank', 11, /"OR" cannot follow "AND"/],
    ['NOT kaspi', 1, /NOT alone matches nothing/],
    ['-kaspi -halyk', 1, /NOT alone matches nothing/],
    ['kaspi OR NOT bank', 10, /each side of OR needs something to find/],
    ['kaspi - bank', 7, /"-" needs a word right after it/],
    ['kaspi ()', 7, /empty parentheses/],
    ['kaspi ""', 7, /empty phrase/],
    ['ka*pi', 3, /"\*" only goes at the end of a word/],
    ['k*', 1, /at least 2 letters/],
    ['"kaspi bank"*', 13, /not a phrase/],
    ['NOT kaspi NEAR/2 bank', 11, /NEAR\/2 joins words, phrases or prefixes/],
    ['kaspi #', 7, /"#" has no letters or digits/],
  ];
  it.each(errors)('%j → column %i', (query, column, message) => {
    let caught: unknown;
    try {
      compileQuery(query);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(QuerySyntaxError);
    expect((caught as QuerySyntaxError).column).toBe(column);
    expect((caught as QuerySyntaxError).message).toMatch(message);
    expect((caught as QuerySyntaxError).message.startsWith(`column ${column}: `)).toBe(true);
  });
});

describe('nesting', () => {
  const syntaxError = (query: string): QuerySyntaxError => {
    try {
      compileQuery(query);
    } catch (err) {
      if (err instanceof QuerySyntaxError) return err;
      throw err;
    }
    throw new Error(`expected a syntax error for ${query.slice(0, 40)}…`);
  };

  it(`takes ${MAX_QUERY_DEPTH} levels of parentheses, NOTs and NEARs`, () => {
    expect(compileQuery(`${'('.repeat(MAX_QUERY_DEPTH)}kaspi${')'.repeat(MAX_QUERY_DEPTH)}`).match('kaspi')).not.toBeNull();
    // An even number of NOTs cancels out.
    expect(compileQuery(`kaspi ${'NOT '.repeat(MAX_QUERY_DEPTH)}bank`).match('kaspi bank')).not.toBeNull();
    const words = Array.from({ length: MAX_QUERY_DEPTH + 1 }, (_, i) => `w${i}`);
    expect(compileQuery(words.join(' NEAR/1 ')).match(words.join(' '))).not.toBeNull();
  });

  // Each of these overflowed the stack (RangeError) before the limit.
  it.each([
    ['parentheses', `${'('.repeat(3000)}kaspi${')'.repeat(3000)}`, MAX_QUERY_DEPTH + 1],
    ['NOTs', `kaspi ${'NOT '.repeat(20_000)}bank`, 7 + MAX_QUERY_DEPTH * 4],
    ['minus signs', `kaspi ${'-'.repeat(20_000)}bank`, 7 + MAX_QUERY_DEPTH],
    ['a NEAR chain', `${'a NEAR/1 '.repeat(20_000)}a`, 3 + MAX_QUERY_DEPTH * 9],
  ])('refuses deeper %s with the column of the level too many', (_what, query, column) => {
    const err = syntaxError(query);
    expect(err.column).toBe(column);
    expect(err.message).toBe(`column ${column}: nesting deeper than ${MAX_QUERY_DEPTH} levels (parentheses, NOTs and NEARs inside each other)`);
  });
});

describe('foldHomoglyphs', () => {
  it.each([
    [`K${CYR_A}spi`, 'Kaspi'],
    ['Ромашк' + 'a', `Ромашк${CYR_A}`],
    [`Привет, K${CYR_A}spi!`, 'Привет, Kaspi!'],
    // Upper-case look-alikes both ways: Latin B in a Cyrillic word, Cyrillic К and А in a Latin one.
    ['B' + 'елый', '\u0412елый'],
    ['\u041a\u0410SPI', 'KASPI'],
    // Ties go to the script of the first letter.
    ['\u041aa\u0440t', '\u041a\u0430\u0440\u0442'],
    ['C\u0430p\u0442', 'Capt'],
    // One script each: transliterations are aliases, not disguises.
    ['каспи kaspi', 'каспи kaspi'],
    // A Latin name with a Cyrillic ending is grammar.
    ['Kaspiден iPhoneға', 'Kaspiден iPhoneға'],
  ])('%s → %s', (text, expected) => {
    expect(foldHomoglyphs(text)).toBe(expected);
  });

  it('is the last step of foldForMatch', () => {
    expect(foldForMatch(`ЁЛКА  K${CYR_A}spi`)).toBe('елка kaspi');
    expect(foldForMatch('РОМАШК' + 'A')).toBe('ромашка');
  });
});
