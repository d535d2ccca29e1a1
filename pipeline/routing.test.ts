import { describe, expect, it } from 'vitest';
import { compileRoutingRules, routeMention, routingRulesSchema, type RoutingInput } from './routing.ts';

// Our own mentions and rules.
const base: RoutingInput = {
  brand: 'Kaspi',
  source: '2gis',
  targetId: '2gis:almaty-1',
  targetTeam: 'almaty',
  lang: 'ru',
  sentiment: 'negative',
  reasons: ['complaint'],
  priority: 'normal',
  rating: 2,
  title: null,
  text: 'Очередь на час, кассир грубит',
};
const defaults = { defaultTeam: 'care', helpdesks: ['ud', 'zd'], channels: ['care-tg'] };

function route(rules: unknown, input: Partial<RoutingInput> = {}) {
  return routeMention(compileRoutingRules(routingRulesSchema.parse(rules)), { ...base, ...input }, defaults);
}

/** The ids of the rules that matched. */
const matched = (rules: unknown, input: Partial<RoutingInput> = {}) => route(rules, input).rules;

function issuesOf(rules: unknown): string[] {
  const parsed = routingRulesSchema.safeParse(rules);
  if (parsed.success) throw new Error('expected the rules to be rejected');
  return parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

describe('routing conditions', () => {
  it.each<[string, Record<string, unknown>, Partial<RoutingInput>, Partial<RoutingInput>]>([
    ['brand', { brand: ['Kaspi'] }, { brand: 'Kaspi' }, { brand: 'Halyk' }],
    ['source', { source: ['2gis', 'google-play'] }, { source: 'google-play' }, { source: 'rss' }],
    ['target', { target: ['2gis:almaty-1'] }, { targetId: '2gis:almaty-1' }, { targetId: '2gis:astana-1' }],
    ['target, none', { target: ['2gis:almaty-1'] }, {}, { targetId: null }],
    ['team', { team: ['almaty'] }, { targetTeam: 'almaty' }, { targetTeam: 'astana' }],
    ['team of a target without one', { team: ['care'] }, { targetTeam: 'care' }, { targetTeam: null }],
    ['language', { language: ['kk'] }, { lang: 'kk' }, { lang: 'ru' }],
    ['sentiment', { sentiment: ['negative', 'mixed'] }, { sentiment: 'mixed' }, { sentiment: 'positive' }],
    ['reasons, any of', { reasons: ['legal_threat', 'safety'] }, { reasons: ['complaint', 'safety'] }, { reasons: ['complaint'] }],
    ['reasons, none', { reasons: ['question'] }, { reasons: ['question'] }, { reasons: [] }],
    ['priority', { priority: ['high', 'urgent'] }, { priority: 'high' }, { priority: 'normal' }],
    ['rating lte', { rating: { lte: 2 } }, { rating: 2 }, { rating: 3 }],
    ['rating gte', { rating: { gte: 4 } }, { rating: 4 }, { rating: 3 }],
    ['rating between', { rating: { gte: 2, lte: 3 } }, { rating: 3 }, { rating: 1 }],
    ['rating, none given', { rating: { lte: 5 } }, { rating: 5 }, { rating: null }],
    ['query', { query: 'кассир NEAR/2 грубит' }, {}, { text: 'Кассир вежливый, хотя и грубит иногда очередь' }],
    ['query over the title', { query: 'очередь' }, { title: 'Очереди', text: 'ничего не работает' }, { text: 'ничего не работает' }],
  ])('%s', (_name, match, yes, no) => {
    const rules = [{ id: 'r', match }];
    expect(matched(rules, yes)).toEqual(['r']);
    expect(matched(rules, no)).toEqual([]);
  });

  it('needs every condition given (AND) and any value of a list (OR)', () => {
    const rules = [{ id: 'r', match: { source: ['2gis', 'google-play'], sentiment: ['negative', 'mixed'], rating: { lte: 2 } } }];
    expect(matched(rules, { source: '2gis', sentiment: 'negative', rating: 1 })).toEqual(['r']);
    expect(matched(rules, { source: 'google-play', sentiment: 'mixed', rating: 2 })).toEqual(['r']);
    expect(matched(rules, { source: 'google-play', sentiment: 'positive', rating: 2 })).toEqual([]);
    expect(matched(rules, { source: 'rss', sentiment: 'negative', rating: 1 })).toEqual([]);
    expect(matched(rules, { source: '2gis', sentiment: 'negative', rating: 3 })).toEqual([]);
  });

  it('an empty match matches everything', () => {
    const decision = route([{ id: 'all', actions: { team: 'legal' } }], { source: 'rss', rating: null, reasons: [] });
    expect(decision).toMatchObject({ team: 'legal', rules: ['all'], explanation: ['all: matches everything'] });
  });

  it('matches the query on Russian word forms, not on words that only start alike', () => {
    const rules = [{ id: 'legal', match: { query: 'суд OR прокуратура' } }];
    expect(matched(rules, { text: 'Подам на вас в суд' })).toEqual(['legal']);
    expect(matched(rules, { text: 'Дойду до суда, обещаю' })).toEqual(['legal']);
    expect(matched(rules, { text: 'Напишу жалобу в прокуратуру' })).toEqual(['legal']);
    expect(matched(rules, { text: 'Уже обратился в Прокуратуре района' })).toEqual(['legal']);
    expect(matched(rules, { text: 'Купил судака, а он несвежий' })).toEqual([]);
    expect(matched([{ id: 'p', match: { query: '"верните деньги"' } }], { text: 'Верните деньги за заказ!' })).toEqual(['p']);
    expect(matched([{ id: 'p', match: { query: '"верните деньги"' } }], { text: 'Верните мне деньги' })).toEqual([]);
  });

  it('explains which conditions held', () => {
    const rules = [
      { id: 'legal', match: { reasons: ['legal_threat'], rating: { lte: 2 } }, continue: true },
      { id: 'words', match: { source: ['2gis'], query: 'суд OR прокуратура' } },
    ];
    const decision = route(rules, { reasons: ['complaint', 'legal_threat'], rating: 1, text: 'Пойду в суд' });
    expect(decision.explanation).toEqual(['legal: reasons legal_threat, rating 1 ≤ 2', 'words: source 2gis, query found "суд"']);
  });
});

describe('routing decisions', () => {
  it('applies the defaults when no rule matches', () => {
    const rules = [{ id: 'kk', match: { language: ['kk'] }, actions: { team: 'kz', priority: 'urgent', helpdesks: [] } }];
    expect(route(rules)).toEqual({
      team: 'almaty', priority: 'normal', helpdesks: ['ud', 'zd'], channels: ['care-tg'], ignored: false, rules: [], explanation: [],
    });
    expect(route(rules, { targetTeam: null })).toMatchObject({ team: 'care', rules: [] });
    expect(route([], { targetTeam: null, priority: 'low' })).toMatchObject({ team: 'care', priority: 'low' });
  });

  it('lets the first matching rule decide and skips the rules that do not match', () => {
    const rules = [
      { id: 'kk', match: { language: ['kk'] }, actions: { team: 'kz' } },
      { id: 'negative', match: { sentiment: ['negative'] }, actions: { team: 'care', priority: 'high', helpdesks: ['ud'] } },
      { id: 'reviews', match: { source: ['2gis'] }, actions: { team: 'reviews', channels: [] } },
    ];
    expect(route(rules)).toMatchObject({ team: 'care', priority: 'high', helpdesks: ['ud'], channels: ['care-tg'], rules: ['negative'] });
    expect(route(rules, { lang: 'kk' })).toMatchObject({ team: 'kz', priority: 'normal', helpdesks: ['ud', 'zd'], rules: ['kk'] });
  });

  it('with continue, tries the rules below until a matching rule without it, and combines what they set', () => {
    const rules = [
      { id: 'legal', match: { reasons: ['legal_threat'] }, actions: { team: 'legal', channels: ['pr-tg'] }, continue: true },
      { id: 'skipped', match: { language: ['kk'] }, actions: { team: 'kz' }, continue: true },
      { id: 'low-stars', match: { rating: { lte: 2 } }, actions: { team: 'reviews', priority: 'urgent', helpdesks: ['ud'], channels: ['care-tg'] }, continue: true },
      { id: 'negative', match: { sentiment: ['negative'] }, actions: { priority: 'high', helpdesks: ['zd', 'ud'] } },
      { id: 'after-stop', match: {}, actions: { team: 'never', helpdesks: ['never'] } },
    ];
    expect(route(rules, { reasons: ['legal_threat'] })).toEqual({
      // team and priority: the first rule that set it; helpdesks and channels: every matched rule that set them.
      team: 'legal', priority: 'urgent', helpdesks: ['ud', 'zd'], channels: ['pr-tg', 'care-tg'], ignored: false,
      rules: ['legal', 'low-stars', 'negative'],
      explanation: ['legal: reasons legal_threat', 'low-stars: rating 2 ≤ 2', 'negative: sentiment negative'],
    });
    // Without the first rule the second setter of a team wins.
    expect(route(rules, { reasons: [] })).toMatchObject({ team: 'reviews', rules: ['low-stars', 'negative'] });
  });

  it('takes helpdesks: [] as none, and defaults only when no matched rule set them', () => {
    const none = [
      { id: 'quiet', match: {}, actions: { helpdesks: [], channels: [] }, continue: true },
      { id: 'team', match: {}, actions: { team: 'legal' } },
    ];
    expect(route(none)).toMatchObject({ team: 'legal', helpdesks: [], channels: [], rules: ['quiet', 'team'] });
    const added = [
      { id: 'quiet', match: {}, actions: { helpdesks: [] }, continue: true },
      { id: 'ud', match: {}, actions: { helpdesks: ['ud'] } },
    ];
    expect(route(added)).toMatchObject({ helpdesks: ['ud'], channels: ['care-tg'] });
  });

  it('ignores the mention when any matched rule says ignore', () => {
    const rules = [
      { id: 'tag', match: {}, actions: { team: 'legal' }, continue: true },
      { id: 'spam', match: { query: 'казино' }, actions: { ignore: true } },
    ];
    expect(route(rules, { text: 'Лучшее казино тут' })).toMatchObject({ ignored: true, team: 'legal', rules: ['tag', 'spam'] });
    expect(route(rules)).toMatchObject({ ignored: false, rules: ['tag'] });
  });

  it('compiles each query once, at compile time', () => {
    const compiled = compileRoutingRules(routingRulesSchema.parse([{ id: 'q', match: { query: 'суд' } }, { id: 'all' }]));
    expect(compiled.map((c) => c.query?.source ?? null)).toEqual(['суд', null]);
  });
});

describe('routing rule schema', () => {
  it('fills in the defaults', () => {
    expect(routingRulesSchema.parse(undefined)).toEqual([]);
    expect(routingRulesSchema.parse([{ id: 'all' }])).toEqual([{ id: 'all', match: {}, actions: { ignore: false }, continue: false }]);
  });

  it('names the unknown sentiment, reason, language and priority with the ones it knows', () => {
    expect(issuesOf([{ id: 'r', match: { sentiment: ['angry'], reasons: ['threat'], language: ['kz'] }, actions: { priority: 'asap' } }])).toEqual([
      '0.match.language.0: unknown language "kz" (languages: ru, kk, uz, en, other)',
      '0.match.sentiment.0: unknown sentiment "angry" (sentiments: negative, neutral, positive, mixed, unscored)',
      '0.match.reasons.0: unknown reason "threat" (reasons: complaint, question, legal_threat, safety, fraud_claim, churn_threat, praise)',
      '0.actions.priority: unknown priority "asap" (priorities: low, normal, high, urgent)',
    ]);
  });

  it('rejects a duplicate id, also next to other problems', () => {
    expect(issuesOf([{ id: 'legal' }, { id: 'legal' }])).toEqual(['1.id: duplicate rule id "legal"']);
    expect(issuesOf([{ id: 'legal', match: { sentiment: ['angry'] } }, { id: 'legal' }])).toContain('1.id: duplicate rule id "legal"');
  });

  it.each([
    [{ lte: 7 }, 'match.rating.lte: stars go from 1 to 5'],
    [{ gte: 'two' }, 'match.rating.gte: must be a number of stars, 1 to 5'],
    [{}, 'match.rating: give gte, lte or both, e.g. { lte: 2 }'],
    [{ gte: 4, lte: 2 }, 'match.rating: gte must not be above lte'],
  ])('rejects the rating %j', (rating, message) => {
    expect(issuesOf([{ id: 'r', match: { rating } }])).toEqual([`0.${message}`]);
  });

  it('rejects a bare value where a list goes, an empty list, a bad query, an unknown key and a bad id', () => {
    expect(issuesOf([{ id: 'r', match: { source: '2gis' } }])).toEqual(['0.match.source: must be a list, e.g. [2gis, google-play]']);
    expect(issuesOf([{ id: 'r', match: { brand: [] } }])).toEqual(['0.match.brand: list at least one value, or leave the condition out']);
    expect(issuesOf([{ id: 'r', match: { query: 'суд OR' } }])).toEqual(['0.match.query: query syntax: column 5: "OR" needs something after it']);
    expect(issuesOf([{ id: 'r', when: {} }])).toEqual(['0: Unrecognized key: "when"']);
    expect(issuesOf([{ id: 'Legal Team' }])).toEqual(['0.id: must be lowercase letters, digits, "-" or "_"']);
  });
});
