import { z } from 'zod';
import { slugSchema } from '../lib/slug.ts';
import { LANGS } from '../sentiment/language.ts';
import { ACTION_REASONS, SENTIMENT_LABELS } from '../sentiment/types.ts';
import { TICKET_PRIORITIES, type TicketPriority } from '../store/schema.ts';
import { compileQuery, querySourceSchema, type CompiledQuery } from './query.ts';

/**
 * Ticket routing rules: an ordered list of `match` → `actions`. The first matching rule decides; one with
 * `continue: true` lets the rules below it add to the decision (Zendesk triggers, Alertmanager routes).
 * Pure: the caller hands over a mention as stored and gets back where its ticket goes.
 */


/** A value from a fixed set, with the set named in the message. */
function oneOf<const T extends readonly [string, ...string[]]>(values: T, what: string, plural: string) {
  return z.enum(values, {
    error: (issue) =>
      issue.input === undefined ? undefined : `unknown ${what} ${JSON.stringify(issue.input)} (${plural}: ${values.join(', ')})`,
  });
}

/** A condition's list: any of its values matches. */
function anyOf<T extends z.ZodType>(item: T, example: string) {
  return z
    .array(item, { error: (issue) => (issue.input === undefined ? undefined : `must be a list, e.g. ${example}`) })
    .min(1, 'list at least one value, or leave the condition out');
}

const star = z.number({ error: 'must be a number of stars, 1 to 5' }).min(1, 'stars go from 1 to 5').max(5, 'stars go from 1 to 5');

const ratingCondition = z
  .strictObject({ gte: star.optional(), lte: star.optional() })
  .refine((r) => r.gte !== undefined || r.lte !== undefined, 'give gte, lte or both, e.g. { lte: 2 }')
  .refine((r) => r.gte === undefined || r.lte === undefined || r.gte <= r.lte, 'gte must not be above lte');

const matchSchema = z.strictObject({
  brand: anyOf(z.string().trim().min(1), '[Kaspi]').optional().meta({ description: 'brand names' }),
  source: anyOf(z.string().min(1), '[2gis, google-play]').optional().meta({ description: 'source ids' }),
  target: anyOf(z.string().min(1), '[2gis:almaty-1]').optional().meta({ description: 'target ids' }),
  team: anyOf(slugSchema, '[almaty]')
    .optional()
    .meta({ description: "the target's own `team`; a mention whose target has no team matches none" }),
  language: anyOf(oneOf(LANGS, 'language', 'languages'), '[kk]').optional(),
  sentiment: anyOf(oneOf(SENTIMENT_LABELS, 'sentiment', 'sentiments'), '[negative, mixed]').optional(),
  reasons: anyOf(oneOf(ACTION_REASONS, 'reason', 'reasons'), '[legal_threat, safety]')
    .optional()
    .meta({ description: "any of the mention's action reasons (why it needs a reply)" }),
  priority: anyOf(oneOf(TICKET_PRIORITIES, 'priority', 'priorities'), '[high, urgent]')
    .optional()
    .meta({ description: 'the priority the ticket would get without rules' }),
  rating: ratingCondition
    .optional()
    .meta({ description: 'stars, { gte, lte }; a mention without a rating does not match' }),
  query: querySourceSchema
    .optional()
    .meta({ description: 'the brand query language over title and text, e.g. \'суд OR прокуратура\'' }),
});

const actionsSchema = z.strictObject({
  team: slugSchema.optional().meta({ description: 'the team that gets the ticket' }),
  priority: oneOf(TICKET_PRIORITIES, 'priority', 'priorities').optional(),
  helpdesks: z
    .array(slugSchema)
    .optional()
    .meta({ description: 'helpdesk ids that get the ticket; [] = none; default: every helpdesk' }),
  channels: z
    .array(slugSchema)
    .optional()
    .meta({ description: 'channel ids told of the ticket; [] = none; default: every channel subscribed to ticket.created' }),
  ignore: z.boolean().default(false).meta({ description: 'true: open no ticket at all' }),
});

export const routingRuleSchema = z.strictObject({
  id: slugSchema,
  match: matchSchema.prefault({}).meta({ description: 'every condition given must hold; a list means any of its values; empty: everything' }),
  actions: actionsSchema.prefault({}),
  continue: z.boolean().default(false).meta({ description: 'also try the rules below when this one matches' }),
});

export const routingRulesSchema = z
  .array(routingRuleSchema)
  // Runs even when a rule failed, so a duplicate id is reported with the rest; hence the defensive read.
  .superRefine(
    (rules: unknown, ctx) => {
      if (!Array.isArray(rules)) return;
      const seen = new Set<string>();
      rules.forEach((rule, index) => {
        const id = typeof rule === 'object' && rule !== null ? (rule as { id?: unknown }).id : undefined;
        if (typeof id !== 'string') return;
        if (seen.has(id)) ctx.addIssue({ code: 'custom', path: [index, 'id'], message: `duplicate rule id ${JSON.stringify(id)}` });
        seen.add(id);
      });
    },
    { when: () => true },
  )
  .default([])
  .meta({ description: 'tried in order: the first matching rule decides where a ticket goes, unless it says continue' });

export type RoutingRule = z.output<typeof routingRuleSchema>;

export interface CompiledRoutingRule {
  rule: RoutingRule;
  query: CompiledQuery | null;
}

/** What routing needs to know of a mention; `text` and `title` normalized as stored. */
export interface RoutingInput {
  brand: string;
  source: string;
  targetId: string | null;
  targetTeam: string | null;
  lang: string;
  sentiment: string;
  reasons: readonly string[];
  /** What the ticket would get without rules. */
  priority: TicketPriority;
  rating: number | null;
  title: string | null;
  text: string;
}

export interface RoutingDefaults {
  defaultTeam: string;
  helpdesks: readonly string[];
  channels: readonly string[];
}

export interface RoutingDecision {
  team: string;
  priority: TicketPriority;
  helpdesks: string[];
  channels: string[];
  /** No ticket at all; the other fields say what it would have had. */
  ignored: boolean;
  /** Ids of the rules that matched, in order; empty: no rule matched and the defaults apply. */
  rules: string[];
  /** One line per matched rule: which of its conditions held. */
  explanation: string[];
}

/** Compiles every rule's query once, for routing many mentions. */
export function compileRoutingRules(rules: readonly RoutingRule[]): CompiledRoutingRule[] {
  return rules.map((rule) => ({ rule, query: rule.match.query === undefined ? null : compileQuery(rule.match.query) }));
}

/** Where a mention's ticket goes under the rules, and why. */
export function routeMention(compiled: readonly CompiledRoutingRule[], input: RoutingInput, defaults: RoutingDefaults): RoutingDecision {
  let team: string | undefined;
  let priority: TicketPriority | undefined;
  let helpdesks: Set<string> | null = null;
  let channels: Set<string> | null = null;
  let ignored = false;
  const rules: string[] = [];
  const explanation: string[] = [];
  for (const { rule, query } of compiled) {
    const held = matchRule(rule.match, query, input);
    if (held === null) continue;
    rules.push(rule.id);
    explanation.push(`${rule.id}: ${held.length === 0 ? 'matches everything' : held.join(', ')}`);
    const { actions } = rule;
    team ??= actions.team;
    priority ??= actions.priority;
    // A rule that sets helpdesks: [] still counts as setting them: it asks for none, not for the defaults.
    if (actions.helpdesks !== undefined) helpdesks = new Set([...(helpdesks ?? []), ...actions.helpdesks]);
    if (actions.channels !== undefined) channels = new Set([...(channels ?? []), ...actions.channels]);
    ignored ||= actions.ignore;
    if (!rule.continue) break;
  }
  return {
    team: team ?? input.targetTeam ?? defaults.defaultTeam,
    priority: priority ?? input.priority,
    helpdesks: helpdesks === null ? [...defaults.helpdesks] : [...helpdesks],
    channels: channels === null ? [...defaults.channels] : [...channels],
    ignored,
    rules,
    explanation,
  };
}

/** The conditions that held, described; null when any given condition fails. */
function matchRule(match: RoutingRule['match'], query: CompiledQuery | null, input: RoutingInput): string[] | null {
  const held: string[] = [];
  const inList = (name: string, allowed: readonly string[] | undefined, value: string | null): boolean => {
    if (allowed === undefined) return true;
    if (value === null || !allowed.includes(value)) return false;
    held.push(`${name} ${value}`);
    return true;
  };
  if (!inList('brand', match.brand, input.brand)) return null;
  if (!inList('source', match.source, input.source)) return null;
  if (!inList('target', match.target, input.targetId)) return null;
  if (!inList('team', match.team, input.targetTeam)) return null;
  if (!inList('language', match.language, input.lang)) return null;
  if (!inList('sentiment', match.sentiment, input.sentiment)) return null;
  if (match.reasons !== undefined) {
    const found = input.reasons.filter((reason) => (match.reasons as readonly string[]).includes(reason));
    if (found.length === 0) return null;
    held.push(`reasons ${found.join(' ')}`);
  }
  if (!inList('priority', match.priority, input.priority)) return null;
  if (match.rating !== undefined) {
    const { gte, lte } = match.rating;
    const { rating } = input;
    if (rating === null || (gte !== undefined && rating < gte) || (lte !== undefined && rating > lte)) return null;
    held.push(gte !== undefined && lte !== undefined ? `rating ${gte} ≤ ${rating} ≤ ${lte}` : gte !== undefined ? `rating ${rating} ≥ ${gte}` : `rating ${rating} ≤ ${lte}`);
  }
  if (query !== null) {
    // Title and text together, as ingestion matches a brand's query.
    const text = `${input.title ?? ''}\n${input.text}`;
    const spans = query.match(text);
    if (spans === null) return null;
    const words = [...new Set(spans.map(({ start, end }) => text.slice(start, end)))];
    held.push(words.length === 0 ? `query ${JSON.stringify(query.source)}` : `query found ${words.slice(0, 3).map((w) => JSON.stringify(w)).join(' ')}`);
  }
  return held;
}
