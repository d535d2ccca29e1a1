import { validateDetailed } from 'node-cron';
import { z } from 'zod';
import { querySourceSchema } from '../pipeline/query.ts';
import { validateCron } from './cron.ts';
import { httpUrlSchema } from '../delivery/connectors/config.ts';
import { emailConfigSchema } from '../delivery/connectors/email.ts';
import { slackConfigSchema } from '../delivery/connectors/slack.ts';
import { telegramConfigSchema } from '../delivery/connectors/telegram.ts';
import { usedeskConfigSchema } from '../delivery/connectors/usedesk.ts';
import { webhookConfigSchema } from '../delivery/connectors/webhook.ts';
import { zendeskConfigSchema } from '../delivery/connectors/zendesk.ts';
import { routingRulesSchema } from '../pipeline/routing.ts';
import { businessHoursSchema, slaPolicySchema } from '../tickets/sla.ts';
import { hostRefusal } from '../lib/outbound.ts';
import { slugSchema } from '../lib/slug.ts';
import { timeZoneSchema } from '../lib/time-zone.ts';

/** What the config needs to know of a crawler: the registry's `Crawler` objects fit. */
export interface ConfigCrawler {
  target: z.ZodType;
  defaultSchedule: string;
  expectedQuietDays?: number;
  /** What `credentials.<source>` must look like, for crawlers that take credentials. */
  credentials?: { schema: z.ZodType };
  /** False for sources whose every item is about the target's own brand (reviews): they need a named brand. */
  matchKeywords?: boolean;
}

export type ConfigCrawlers = Readonly<Record<string, ConfigCrawler>>;


/** The zod error map of the config: shorter messages where zod's defaults read badly in a config file. */
export function describeConfigIssue(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code === 'invalid_type' && issue.input === undefined) return 'required';
  if (issue.code === 'invalid_union' && issue.note === 'No matching discriminator') {
    const key = String(issue.discriminator ?? 'type');
    const value = (issue.input as Record<string, unknown> | undefined)?.[key];
    const options = Array.isArray(issue.options) ? issue.options.map(String).join(', ') : '';
    if (value === undefined) return `required (${key}s: ${options})`;
    return `unknown ${key} ${JSON.stringify(value)} (${key}s: ${options})`;
  }
  return undefined;
}

const targetId = z.string().regex(/^[a-z0-9_:.-]+$/, 'must be lowercase letters, digits, "-", "_", ":" or "."');

export function checkSchedule(expr: string): string | null {
  const reason = validateCron(expr) ?? validateDetailed(expr).errors[0]?.message ?? null;
  return reason === null ? null : `invalid cron expression ${JSON.stringify(expr)} (${reason})`;
}

const schedule = z.string().superRefine((expr, ctx) => {
  const reason = checkSchedule(expr);
  if (reason) ctx.addIssue({ code: 'custom', message: reason });
});

const brandSchema = z.strictObject({
  name: z.string().trim().min(1),
  keywords: z.array(z.string().trim().min(1, 'must not be empty')).min(1, 'needs at least one keyword'),
  aliases: z
    .array(z.string().trim().min(1, 'must not be empty'))
    .default([])
    .meta({ description: 'other names and transliterations (Kaspi, Каспи): matched like the keywords' }),
  query: querySourceSchema
    .optional()
    .meta({ description: 'the brand query: terms (word forms match), "exact phrases", AND, OR, NOT/-term, ( ), NEAR/n, prefix*; default: keywords and aliases OR-ed' }),
  ownAccounts: z
    .array(z.string().trim().min(1, 'must not be empty'))
    .default([])
    .meta({ description: "the brand's own accounts (handle, id or name, any source): their posts need no reply" }),
});

const teamSchema = z.strictObject({
  id: slugSchema,
  name: z.string().trim().min(1),
  hours: businessHoursSchema
    .optional()
    .meta({ description: "the team's business hours, time zone and holidays: its SLA clocks run only then; default: around the clock" }),
});

const targetSchema = z.strictObject({
  id: targetId,
  source: z.string().min(1),
  brand: z.string().trim().optional().meta({ description: 'the brand this target listens for; or `brands`; neither: every brand' }),
  brands: z
    .array(z.string().trim())
    .min(1, 'needs at least one brand (or leave it out for every brand)')
    .optional()
    .meta({ description: 'several brands: each item is kept for every brand whose query it matches; the first owns reviews and its own page' }),
  schedule: schedule.optional().meta({ description: 'cron, 5 or 6 fields; default: the source\'s own schedule' }),
  enabled: z.boolean().default(true),
  exclude: querySourceSchema
    .optional()
    .meta({ description: "a query whose matches are dropped from this target, even on the brand's own targets that keep every item" }),
  team: slugSchema.optional().meta({ description: 'team that owns this target\'s tickets (a branch\'s city or franchise); default: routing.defaultTeam' }),
  expectedQuietDays: z
    .number()
    .positive()
    .optional()
    .meta({ description: 'days without a new mention before a target.silent alert; default: the source\'s own' }),
  // Checked against the crawler's own `target` schema in `checkReferences`, which knows the crawlers.
  params: z.record(z.string(), z.unknown()).default({}),
});

/**
 * What a channel can subscribe to: a new ticket, and a change its card shows (status, assignee, priority, team);
 * 80% and 100% of a ticket's SLA target; a target with no new mention for longer than its quiet period; a target
 * that stopped working (blocked, needs action, or failing again and again); a helpdesk or channel that keeps
 * refusing our deliveries; a crisis incident opened, escalated, refreshed and resolved; the daily digest.
 */
export const channelEvents = [
  'ticket.created', 'ticket.updated', 'ticket.sla_warning', 'ticket.sla_breached', 'target.silent', 'target.failing', 'destination.failing',
  'incident.opened', 'incident.escalated', 'incident.updated', 'incident.resolved', 'digest',
] as const;

const hhmmSchema = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a local time HH:MM, e.g. 22:00');

/** "90s", "30m", "2h" or a number of seconds. */
const durationSchema = z.union([
  z.number().nonnegative(),
  z.string().regex(/^\d+(\.\d+)?\s*(s|m|h)$/, 'must be a duration like 60s, 30m or 2h, or a number of seconds').transform((text) => {
    const value = Number.parseFloat(text);
    const unit = text.trim().slice(-1);
    return value * (unit === 'h' ? 3600 : unit === 'm' ? 60 : 1);
  }),
]);

// A channel entry is its connector's own schema plus its notification route: the events it hears (all without
// `events`), filters, grouping, quiet hours in the recipient's time zone and a daily digest.
const channelRouteFields = {
  events: z
    .array(z.enum(channelEvents))
    .min(1)
    .default([...channelEvents])
    .meta({ description: 'the events this channel hears; default: all of them (a digest only with `digest`)' }),
  filters: z
    .strictObject({
      brands: z.array(z.string()).optional(),
      teams: z.array(slugSchema).optional(),
      priorities: z.array(z.enum(['low', 'normal', 'high', 'urgent'])).optional(),
      sources: z.array(z.string()).optional(),
    })
    .optional()
    .meta({ description: 'only alerts of these brands, teams, ticket priorities and sources; an alert without the field passes' }),
  grouping: z
    .strictObject({
      groupWait: durationSchema.default(60).meta({ description: 'delay of a new card (new ticket, new incident), so what arrives with it joins it; default 60s' }),
      groupInterval: durationSchema.default(1800).meta({ description: 'least time between two refreshes of an incident card; default 30m' }),
      repeatInterval: durationSchema.default(7200).meta({ description: 'an unacknowledged incident is announced again this often; default 2h' }),
    })
    .prefault({}),
  quietHours: z
    .strictObject({ timeZone: timeZoneSchema, from: hhmmSchema, to: hhmmSchema })
    .optional()
    .meta({ description: 'no alert but a critical one between from and to in timeZone; the rest waits for the end (22:00-08:00 spans midnight)' }),
  digest: z
    .strictObject({ at: hhmmSchema.default('09:00'), timeZone: timeZoneSchema })
    .optional()
    .meta({ description: "a daily digest of the last 24 hours at `at` in timeZone" }),
};

const channelSchema = z.discriminatedUnion('type', [
  webhookConfigSchema.extend(channelRouteFields),
  telegramConfigSchema.extend(channelRouteFields),
  slackConfigSchema.extend(channelRouteFields),
  emailConfigSchema.extend(channelRouteFields),
]);

/** The crisis detector's knobs; the defaults are measured by `npm run bench -- crisis`. */
const crisisSchema = z.strictObject({
  enabled: z.boolean().default(true),
  evaluateEverySeconds: z.number().min(10).max(3600).default(60),
  escalateAfter: durationSchema.default(900).meta({ description: 'a critical incident not acknowledged this long is escalated; default 15m' }),
});

// Each helpdesk type's entry is its connector's own schema (delivery/connectors/).
const helpdeskSchema = z.discriminatedUnion('type', [webhookConfigSchema, usedeskConfigSchema, zendeskConfigSchema]);

const deliverySchema = z.strictObject({
  maxAttempts: z.int().min(1).max(20).default(8),
  initialDelaySeconds: z.number().positive().default(5),
  maxDelaySeconds: z.number().positive().default(36_000),
  timeoutSeconds: z.number().positive().max(600).default(15),
});

const baseSchema = z.strictObject({
  brands: z.array(brandSchema).min(1, 'needs at least one brand'),
  teams: z.array(teamSchema).min(1, 'needs at least one team'),
  routing: z.strictObject({
    defaultTeam: z.string(),
    rules: routingRulesSchema.meta({ description: 'ordered rules: the first match decides (continue: true tries the next ones too)' }),
  }),
  sla: slaPolicySchema.prefault({}).meta({ description: 'first-response and resolution targets per priority' }),
  targets: z.array(targetSchema).default([]),
  channels: z.array(channelSchema).default([]),
  helpdesks: z.array(helpdeskSchema).default([]),
  delivery: deliverySchema.prefault({}),
  crisis: crisisSchema.prefault({}),
  publicUrl: httpUrlSchema
    .optional()
    .meta({ description: "where people reach this earshot (https://earshot.example.com): alerts link to it; without it they carry no earshot link" }),
  network: z
    .strictObject({
      allowPrivate: z
        .boolean()
        .default(false)
        .meta({ description: 'let crawls, helpdesks and channels reach private and loopback addresses (a local mirror, a test fake); link-local and cloud metadata addresses are refused whatever this says' }),
    })
    .prefault({}),
  // Per source, checked against the crawler's own credentials schema in `checkReferences`.
  credentials: z
    .record(z.string(), z.unknown())
    .default({})
    .meta({ description: 'credentials per source, e.g. vk: { accessToken: ${VK_TOKEN} }; keep them in the environment' }),
});

type BaseConfig = z.output<typeof baseSchema>;

/**
 * The one schema of `earshot.yaml`. Crawlers are a parameter so that the sources, their target params and
 * their default schedules come from the registry without this module importing it.
 */
export function createConfigSchema(crawlers: ConfigCrawlers) {
  return baseSchema
    // Runs even when fields failed, so every problem of the file is reported in one go.
    .superRefine((config, ctx) => checkReferences(config, ctx, crawlers), { when: () => true })
    .transform((config) => applyCrawlerDefaults(config, crawlers));
}

export type ConfigSchema = ReturnType<typeof createConfigSchema>;
export type EarshotConfig = z.output<ConfigSchema>;
export type BrandConfig = EarshotConfig['brands'][number];
export type TeamConfig = EarshotConfig['teams'][number];
export type TargetConfig = EarshotConfig['targets'][number];
export type ChannelConfig = EarshotConfig['channels'][number];
export type HelpdeskConfig = EarshotConfig['helpdesks'][number];
export type DeliveryPolicy = EarshotConfig['delivery'];

function applyCrawlerDefaults(config: BaseConfig, crawlers: ConfigCrawlers) {
  const targets = config.targets.map((target) => {
    const crawler = findOwn(crawlers, target.source);
    if (!crawler) throw new Error(`unreachable: source ${target.source} was checked`);
    const { brand, brands, ...rest } = target;
    return {
      ...rest,
      // A shared source (a news feed, a city channel) names no brand and listens for all of them.
      brands: brands ?? (brand === undefined ? config.brands.map((b) => b.name) : [brand]),
      schedule: target.schedule ?? crawler.defaultSchedule,
      expectedQuietDays: target.expectedQuietDays ?? crawler.expectedQuietDays ?? 14,
      params: crawler.target.parse(target.params) as Record<string, unknown>,
    };
  });
  const credentials: Record<string, unknown> = {};
  for (const [source, value] of Object.entries(config.credentials)) {
    const schema = findOwn(crawlers, source)?.credentials?.schema;
    if (!schema) throw new Error(`unreachable: credentials.${source} was checked`);
    credentials[source] = schema.parse(value);
  }
  return { ...config, targets, credentials };
}

function findOwn<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

type Path = (string | number)[];

// `config` may be partly invalid here (see `when` above), so everything is read defensively.
function checkReferences(config: unknown, ctx: z.RefinementCtx, crawlers: ConfigCrawlers): void {
  const report = (path: Path, message: string) => ctx.addIssue({ code: 'custom', path, message });
  const root = readRecord(config);
  const brands = readList(root.brands);
  const teams = readList(root.teams);
  const targets = readList(root.targets);

  reportDuplicates(brands, 'brands', 'name', report);
  reportDuplicates(teams, 'teams', 'id', report);
  reportDuplicates(targets, 'targets', 'id', report);
  reportDuplicates(readList(root.channels), 'channels', 'id', report);
  reportDuplicates(readList(root.helpdesks), 'helpdesks', 'id', report);

  const brandNames = brands.map((brand) => brand.name).filter((name) => typeof name === 'string');
  const teamIds = teams.map((team) => team.id).filter((id) => typeof id === 'string');

  const defaultTeam = readRecord(root.routing).defaultTeam;
  if (typeof defaultTeam === 'string' && teams.length > 0 && !teamIds.includes(defaultTeam)) {
    report(['routing', 'defaultTeam'], `unknown team ${JSON.stringify(defaultTeam)} (teams: ${teamIds.join(', ')})`);
  }

  checkRoutingReferences(readList(readRecord(root.routing).rules), teamIds, root, report);

  const sources = Object.keys(crawlers);
  targets.forEach((target, index) => {
    if (typeof target.team === 'string' && teams.length > 0 && !teamIds.includes(target.team)) {
      report(['targets', index, 'team'], `unknown team ${JSON.stringify(target.team)} (teams: ${teamIds.join(', ')})`);
    }
    checkTargetBrands(target, index, brandNames, brands.length > 0, report);
    if (typeof target.source !== 'string' || target.source === '') return;
    const crawler = findOwn(crawlers, target.source);
    if (!crawler) {
      report(['targets', index, 'source'], `unknown source ${JSON.stringify(target.source)} (sources: ${sources.join(', ')})`);
      return;
    }
    if (crawler.matchKeywords === false && target.brand === undefined && target.brands === undefined) {
      report(['targets', index], `source ${target.source} keeps every item of the target for one brand: name it with \`brand\``);
    }
    if (target.schedule === undefined) {
      const reason = checkSchedule(crawler.defaultSchedule);
      if (reason) report(['targets', index, 'schedule'], `default schedule of source ${target.source}: ${reason}`);
    }
    const params = target.params === undefined ? {} : target.params;
    const parsed = crawler.target.safeParse(params, { error: describeConfigIssue });
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        ctx.addIssue({ ...issue, path: ['targets', index, 'params', ...issue.path] } as z.core.$ZodRawIssue);
      }
    }
  });

  const takesCredentials = sources.filter((source) => crawlers[source]?.credentials);
  for (const [source, value] of Object.entries(readRecord(root.credentials))) {
    const schema = findOwn(crawlers, source)?.credentials?.schema;
    if (!schema) {
      report(['credentials', source], `no source ${JSON.stringify(source)} takes credentials (sources that do: ${takesCredentials.join(', ') || 'none'})`);
      continue;
    }
    const parsed = schema.safeParse(value, { error: describeConfigIssue });
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        ctx.addIssue({ ...issue, path: ['credentials', source, ...issue.path] } as z.core.$ZodRawIssue);
      }
    }
  }

  checkOutboundHosts(root, readRecord(root.network).allowPrivate === true, report);

  const delivery = readRecord(root.delivery);
  const { initialDelaySeconds, maxDelaySeconds } = delivery;
  if (typeof initialDelaySeconds === 'number' && typeof maxDelaySeconds === 'number' && maxDelaySeconds < initialDelaySeconds) {
    report(['delivery', 'maxDelaySeconds'], `must be at least initialDelaySeconds (${initialDelaySeconds})`);
  }
}

/**
 * Every URL in the file (a feed, a helpdesk, a webhook, a channel, an SMTP server) whose host is refused by the
 * outbound policy without a DNS lookup (an IP address, localhost, a metadata name) is reported at its line; names
 * are judged again when they resolve, at every connection.
 */
function checkOutboundHosts(root: Record<string, unknown>, allowPrivate: boolean, report: (path: Path, message: string) => void): void {
  const visit = (value: unknown, path: Path): void => {
    if (typeof value === 'string') {
      if (!/^(https?|smtps?):\/\//i.test(value)) return;
      let host: string;
      try {
        host = new URL(value).hostname;
      } catch {
        return; // the field's own schema says what is wrong with it
      }
      const refused = hostRefusal(host, { allowPrivate });
      if (refused) report(path, refused);
    } else if (Array.isArray(value)) {
      value.forEach((item, index) => visit(item, [...path, index]));
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) visit(item, [...path, key]);
    }
  };
  for (const [key, value] of Object.entries(root)) if (key !== 'network') visit(value, [key]);
}

function checkRoutingReferences(
  rules: Record<string, unknown>[],
  teamIds: unknown[],
  root: Record<string, unknown>,
  report: (path: Path, message: string) => void,
): void {
  const known = {
    helpdesks: readList(root.helpdesks).map((h) => h.id),
    channels: readList(root.channels).map((c) => c.id),
  };
  rules.forEach((rule, index) => {
    const actions = readRecord(rule.actions);
    const path: Path = ['routing', 'rules', index, 'actions'];
    if (typeof actions.team === 'string' && teamIds.length > 0 && !teamIds.includes(actions.team)) {
      report([...path, 'team'], `unknown team ${JSON.stringify(actions.team)} (teams: ${teamIds.join(', ')})`);
    }
    for (const list of ['helpdesks', 'channels'] as const) {
      const ids = actions[list];
      if (!Array.isArray(ids)) continue;
      ids.forEach((id, i) => {
        if (typeof id === 'string' && !known[list].includes(id)) {
          report([...path, list, i], `unknown ${list.slice(0, -1)} ${JSON.stringify(id)} (${list}: ${known[list].join(', ') || 'none configured'})`);
        }
      });
    }
  });
}

function checkTargetBrands(
  target: Record<string, unknown>,
  index: number,
  brandNames: unknown[],
  haveBrands: boolean,
  report: (path: Path, message: string) => void,
): void {
  if (target.brand !== undefined && target.brands !== undefined) {
    report(['targets', index, 'brands'], 'give `brand` or `brands`, not both');
  }
  const named: [Path, unknown][] = [[['targets', index, 'brand'], target.brand]];
  if (Array.isArray(target.brands)) target.brands.forEach((name, i) => named.push([['targets', index, 'brands', i], name]));
  const seen = new Set<string>();
  for (const [path, name] of named) {
    if (typeof name !== 'string') continue;
    if (haveBrands && !brandNames.includes(name.trim())) {
      report(path, `unknown brand ${JSON.stringify(name)} (brands: ${brandNames.join(', ')})`);
    }
    if (seen.has(name.trim())) report(path, `brand ${JSON.stringify(name)} is listed twice`);
    seen.add(name.trim());
  }
}

function reportDuplicates(
  items: Record<string, unknown>[],
  list: string,
  key: string,
  report: (path: Path, message: string) => void,
): void {
  const seen = new Set<unknown>();
  items.forEach((item, index) => {
    const value = item[key];
    if (typeof value !== 'string') return;
    if (seen.has(value)) report([list, index, key], `duplicate ${key} ${JSON.stringify(value)}`);
    seen.add(value);
  });
}

function readRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function readList(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.map(readRecord) : [];
}
