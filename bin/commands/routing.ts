import { parseArgs } from 'node:util';
import type { EarshotConfig } from '../../config/schema.ts';
import { compileRoutingRules, routeMention, type RoutingDecision, type RoutingDefaults } from '../../pipeline/routing.ts';
import type { TicketPriority } from '../../store/schema.ts';
import { listRoutingSample, type RoutingSampleMention } from '../../store/routing-sample.ts';
import { ticketPriority } from '../../tickets/open.ts';
import { loadCommandConfig, type CommandContext } from '../context.ts';
import { UsageError } from '../usage-error.ts';

const HOW = 'routing needs "test", e.g. earshot routing test --since 7d';
const MAX_LIMIT = 10_000;

/** One stored mention and where the config's rules would send its ticket; null decision: not actionable. */
export interface RoutingTrial {
  mention: RoutingSampleMention;
  defaultPriority: TicketPriority;
  decision: RoutingDecision | null;
}

/**
 * `earshot routing test [--since 7d] [--limit N] [--json] [--config FILE]`: the config's routing rules tried
 * on the mentions stored lately, newest first: the team, priority and destinations each would get, the rules
 * that decided it, and the team of the ticket it has now. Nothing is written.
 */
export async function commandRouting(args: string[], ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseRoutingArgs(args);
  if (positionals[0] !== 'test' || positionals.length > 1) throw new UsageError(HOW);
  const since = values.since ?? '7d';
  const sinceMs = parseSince(since);
  const limit = parseLimit(values.limit ?? '200');
  const { config } = loadCommandConfig(ctx, values.config);
  const compiled = compileRoutingRules(config.routing.rules);
  const defaults = routingDefaultsOf(config);
  const store = await ctx.runtime.store();
  const now = ctx.now();
  const mentions = await listRoutingSample(store.db, { since: new Date(now.getTime() - sinceMs), until: now, limit });
  const routed = mentions.map((mention): RoutingTrial => {
    const defaultPriority = ticketPriority({ rating: mention.rating, action_reasons: mention.actionReasons });
    if (!mention.actionable) return { mention, defaultPriority, decision: null };
    const decision = routeMention(
      compiled,
      {
        brand: mention.brand, source: mention.source, targetId: mention.targetId, targetTeam: mention.targetTeam,
        lang: mention.lang, sentiment: mention.sentiment, reasons: mention.actionReasons, priority: defaultPriority,
        rating: mention.rating, title: mention.title, text: mention.text,
      },
      defaults,
    );
    return { mention, defaultPriority, decision };
  });
  if (values.json) {
    for (const r of routed) ctx.io.out(`${JSON.stringify(routedJson(r))}\n`);
    ctx.io.out(`${JSON.stringify({ summary: summarize(routed), since, limit })}\n`);
  } else {
    ctx.io.out(formatRoutingTable(routed, since));
  }
  return 0;
}

function parseRoutingArgs(args: string[]) {
  try {
    return parseArgs({
      args,
      allowPositionals: true,
      options: {
        since: { type: 'string' },
        limit: { type: 'string' },
        json: { type: 'boolean', default: false },
        config: { type: 'string' },
      },
    });
  } catch (err) {
    // node:util reports unknown or incomplete options as TypeErrors with an ERR_PARSE_ARGS_* code.
    if ((err as { code?: unknown }).code?.toString().startsWith('ERR_PARSE_ARGS')) throw new UsageError(`routing: ${(err as Error).message}`);
    throw err;
  }
}

const HOUR_MS = 60 * 60 * 1000;

/** `24h` or `7d` in ms. */
function parseSince(value: string): number {
  const found = /^(\d+)([hd])$/.exec(value.trim());
  const count = found ? Number(found[1]) : 0;
  if (!found || count < 1) throw new UsageError(`--since ${JSON.stringify(value)}: give hours or days, e.g. 24h or 7d`);
  return count * (found[2] === 'd' ? 24 * HOUR_MS : HOUR_MS);
}

function parseLimit(value: string): number {
  const limit = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!(limit >= 1 && limit <= MAX_LIMIT)) throw new UsageError(`--limit ${JSON.stringify(value)}: give a whole number from 1 to ${MAX_LIMIT}`);
  return limit;
}

/** Without rules every ticket goes to every helpdesk and to every channel that subscribed to new tickets. */
function routingDefaultsOf(config: EarshotConfig): RoutingDefaults {
  return {
    defaultTeam: config.routing.defaultTeam,
    helpdesks: config.helpdesks.map((h) => h.id),
    channels: config.channels.filter((c) => (c.events as readonly string[]).includes('ticket.created')).map((c) => c.id),
  };
}

function routedJson({ mention, defaultPriority, decision }: RoutingTrial) {
  return {
    id: mention.id,
    firstSeenAt: mention.firstSeenAt.toISOString(),
    brand: mention.brand,
    source: mention.source,
    targetId: mention.targetId,
    sentiment: mention.sentiment,
    actionable: mention.actionable,
    defaultPriority,
    // The ticket it has now, to compare the decision with.
    ticket: mention.ticket,
    decision,
  };
}

interface RoutingSummary {
  mentions: number;
  /** Actionable and not ignored: a ticket of their own, or the open one of their story. */
  routed: number;
  ignored: number;
  notActionable: number;
  /** Tickets per team. */
  teams: Record<string, number>;
  /** Actionable mentions per deciding rule; "default" when no rule matched. */
  rules: Record<string, number>;
}

function summarize(routed: readonly RoutingTrial[]): RoutingSummary {
  const summary: RoutingSummary = { mentions: routed.length, routed: 0, ignored: 0, notActionable: 0, teams: {}, rules: {} };
  const count = (counts: Record<string, number>, key: string) => (counts[key] = (counts[key] ?? 0) + 1);
  for (const { decision } of routed) {
    if (decision === null) {
      summary.notActionable++;
      continue;
    }
    for (const rule of decision.rules.length === 0 ? ['default'] : decision.rules) count(summary.rules, rule);
    if (decision.ignored) {
      summary.ignored++;
      continue;
    }
    summary.routed++;
    count(summary.teams, decision.team);
  }
  return summary;
}

/** A plain-text table, one mention a line, then the counts per team and per rule. */
export function formatRoutingTable(routed: readonly RoutingTrial[], since: string): string {
  if (routed.length === 0) return `no mentions first seen in the last ${since}\n`;
  const list = (ids: readonly string[]) => (ids.length === 0 ? 'none' : ids.join(','));
  const header = ['MENTION', 'SOURCE', 'SENTIMENT', 'ACTIONABLE', '→ TEAM', 'PRIORITY', 'HELPDESKS', 'CHANNELS', 'RULES', 'TICKET NOW', 'WHY'];
  const rows = routed.map(({ mention, decision }) => {
    const head = [mention.id, mention.source, mention.sentiment, mention.actionable ? 'yes' : 'no'];
    const now = mention.ticket ? mention.ticket.team : 'none';
    if (decision === null) return [...head, 'no ticket: not actionable', '', '', '', '', now, ''];
    const rules = decision.rules.length === 0 ? 'default' : decision.rules.join(',');
    const why = decision.explanation.join('; ');
    if (decision.ignored) return [...head, 'no ticket: ignored', '', '', '', rules, now, why];
    return [...head, decision.team, decision.priority, list(decision.helpdesks), list(decision.channels), rules, now, why];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const s = summarize(routed);
  const counts = (record: Record<string, number>) =>
    Object.entries(record)
      .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
      .map(([key, n]) => `${key} ${n}`)
      .join(', ');
  const footer =
    `\n${s.mentions} mention(s) first seen in the last ${since}: ${s.routed} routed` +
    (s.routed > 0 ? ` (teams: ${counts(s.teams)})` : '') +
    `, ${s.ignored} ignored, ${s.notActionable} not actionable` +
    (s.mentions > s.notActionable ? `; rules: ${counts(s.rules)}` : '');
  return [line(header), ...rows.map(line), footer].join('\n') + '\n';
}
