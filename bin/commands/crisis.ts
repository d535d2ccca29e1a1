import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { replayCrisis, replayLines, type ReplayMention } from '../../alerts/crisis/replay.ts';
import { callerPath, type CommandContext } from '../context.ts';
import { UsageError } from '../usage-error.ts';

const SENTIMENTS = ['negative', 'neutral', 'positive'] as const;
// An ISO 8601 time with a zone: a time without one would be read in this machine's zone.
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

/** A line the file cannot be replayed with: exit 1, with the file and line. */
class BadLine extends Error {}

/**
 * `earshot crisis replay FILE.jsonl [--step MINUTES]`: runs the crisis detector and the incident lifecycle
 * over a mention history as if live (a tick every `--step` minutes of data time, default 1), each brand on
 * its own, and prints one JSON line per incident it would have opened, then a summary line with the
 * warnings per brand-week (§4.4's target: at most 2). No database.
 */
export function commandCrisis(args: string[], ctx: CommandContext): number {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { step: { type: 'string' } } });
  const [sub, file, ...extra] = positionals;
  if (sub !== 'replay') throw new UsageError(sub === undefined ? 'crisis needs a subcommand: earshot crisis replay FILE.jsonl' : `unknown crisis subcommand "${sub}"`);
  if (file === undefined) throw new UsageError('crisis replay needs a file: earshot crisis replay FILE.jsonl');
  if (extra.length > 0) throw new UsageError(`crisis replay takes one file (got also ${extra.join(' ')})`);
  const stepMinutes = values.step === undefined ? 1 : Number(values.step);
  if (!(Number.isFinite(stepMinutes) && stepMinutes >= 1 && stepMinutes <= 60)) throw new UsageError(`--step: minutes from 1 to 60 (got ${values.step})`);
  const path = callerPath(ctx, file);
  if (!existsSync(path)) throw new UsageError(`${file}: no such file`);
  let mentions: ReplayMention[];
  try {
    // Every line is checked before anything is printed: a bad file gives an error, not half an answer.
    mentions = readMentions(readFileSync(path, 'utf8'), file);
  } catch (err) {
    if (!(err instanceof BadLine)) throw err;
    ctx.io.err(`${err.message}\n`);
    return 1;
  }
  const lines = replayLines(replayCrisis(mentions, { stepMinutes }));
  ctx.io.out(`${lines.join('\n')}\n`);
  return 0;
}

function readMentions(text: string, file: string): ReplayMention[] {
  const mentions: ReplayMention[] = [];
  const rows = text.split('\n');
  for (let i = 0; i < rows.length; i++) {
    const raw = rows[i]!.trim();
    if (raw === '') continue;
    const bad = (what: string) => new BadLine(`${file}:${i + 1}: ${what}`);
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      throw bad(`not JSON (${(err as Error).message})`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('not a JSON object');
    const line = value as Record<string, unknown>;
    const got = (v: unknown) => `(got ${JSON.stringify(v)})`;

    if (line.brand === undefined) throw bad('brand: missing');
    if (typeof line.brand !== 'string' || line.brand === '') throw bad(`brand: a non-empty string ${got(line.brand)}`);
    if (line.published_at === undefined) throw bad('published_at: missing');
    const at = typeof line.published_at === 'string' && ISO_TIME.test(line.published_at) ? Date.parse(line.published_at) : Number.NaN;
    if (!Number.isFinite(at)) throw bad(`published_at: an ISO 8601 time with a zone, like 2026-03-02T09:15:00Z ${got(line.published_at)}`);
    if (line.sentiment === undefined) throw bad('sentiment: missing');
    if (!SENTIMENTS.includes(line.sentiment as (typeof SENTIMENTS)[number])) throw bad(`sentiment: one of ${SENTIMENTS.join(', ')} ${got(line.sentiment)}`);
    // Author and reach may be left out: unknown, as null.
    const author = line.author ?? null;
    if (author !== null && typeof author !== 'string') throw bad(`author: a string or null ${got(author)}`);
    const reach = line.reach ?? null;
    if (reach !== null && !(typeof reach === 'number' && Number.isFinite(reach) && reach >= 0)) throw bad(`reach: a number from 0 up, or null ${got(reach)}`);
    const story = line.story ?? null;
    if (story !== null && !((typeof story === 'string' && story !== '') || (typeof story === 'number' && Number.isFinite(story)))) {
      throw bad(`story: a non-empty string or a number, or null ${got(story)}`);
    }
    mentions.push({
      brand: line.brand, at, sentiment: line.sentiment as ReplayMention['sentiment'], author, reach, story: story === null ? null : String(story),
    });
  }
  return mentions;
}
