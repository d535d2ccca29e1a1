import { parseArgs } from 'node:util';
import { listTargetHealth, type TargetHealth } from '../../store/target-health.ts';
import type { CommandContext } from '../context.ts';

/** `earshot targets [--json]`: crawl health of every target, as a table or one JSON object a line. */
export async function commandTargets(args: string[], ctx: CommandContext): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean', default: false } } });
  const store = await ctx.runtime.store();
  const targets = await listTargetHealth(store.db, { now: ctx.now() });
  if (values.json) {
    for (const t of targets) ctx.io.out(`${JSON.stringify(t)}\n`);
  } else {
    ctx.io.out(formatTargetsTable(targets, ctx.now()));
  }
  return 0;
}

/** A plain-text table for a terminal: one target a line, the last error cut to fit. */
export function formatTargetsTable(targets: readonly TargetHealth[], now: Date): string {
  if (targets.length === 0) return 'no targets yet: add some to the config and start earshot\n';
  const ago = (at: Date | null) => (at ? relativeTime(at, now) : '-');
  const header = ['TARGET', 'SOURCE', 'BRAND', 'STATE', 'LAST SUCCESS', 'ERRORS', 'NEXT RUN', '24H', 'LAST MENTION', 'LAST ERROR'];
  const rows = targets.map((t) => [
    t.id,
    t.source,
    t.brands.join(','),
    [t.state, ...(t.silent ? ['silent'] : []), ...(t.skippedRuns > 0 ? [`${t.skippedRuns} runs skipped`] : [])].join(', '),
    ago(t.lastSuccessAt),
    String(t.consecutiveErrors),
    ago(t.nextRunAt),
    String(t.mentions24h),
    ago(t.lastMentionAt),
    t.lastError ? cut(t.lastError.replace(/\s+/g, ' '), 70) : '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const lagging = targets.filter((t) => t.lastSkippedAt !== null && now.getTime() - t.lastSkippedAt.getTime() < LAGGING_MS);
  const footer = lagging.length === 0
    ? []
    : [
        `\n${lagging.length} target(s) missed cron runs in the last hour: a crawl was still queued or running when the next was due. ` +
          'Run more workers (earshot worker, or --concurrency), or give these targets a slower schedule.',
      ];
  return [line(header), ...rows.map(line), ...footer].join('\n') + '\n';
}

const LAGGING_MS = 60 * 60 * 1000;

function relativeTime(at: Date, now: Date): string {
  const s = Math.round((now.getTime() - at.getTime()) / 1000);
  const abs = Math.abs(s);
  const span = abs < 90 ? `${abs}s` : abs < 90 * 60 ? `${Math.round(abs / 60)}m` : abs < 36 * 3600 ? `${Math.round(abs / 3600)}h` : `${Math.round(abs / 86400)}d`;
  return s >= 0 ? `${span} ago` : `in ${span}`;
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
