import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandCrisis } from '../bin/commands/crisis.ts';
import { UsageError } from '../bin/usage-error.ts';
import { catchError } from './helpers/catch-error.ts';
import { captureOutput } from './helpers/capture-output.ts';
import { testCommandContext } from './helpers/command-context.ts';
import { generateMentionHistory, QUIET_BRAND, toReplayLine } from './helpers/crisis-data.ts';

// `earshot crisis replay` in-process: the command itself, output.stdout and output.stderr captured.
const output = captureOutput();

const scratch = mkdtempSync(join(tmpdir(), 'earshot-crisis-'));
function scratchFile(name: string, body: string): string {
  const file = join(scratch, name);
  writeFileSync(file, body);
  return file;
}
const lines = () => output.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const START = Date.parse('2026-03-02T00:00:00Z');
const BURST_AT = START + 21 * DAY + 11 * HOUR + 7 * MINUTE;

// Three weeks of a quiet brand (2 negatives a day), then 6 negatives from 5 authors in 2 hours.
const history = generateMentionHistory({
  seed: 1, start: START, days: 23, brands: [QUIET_BRAND], bursts: [{ brand: 'quiet', start: BURST_AT, minutes: 120, count: 6, authors: 5 }],
});
const historyFile = scratchFile('quiet.jsonl', `${history.map(toReplayLine).join('\n')}\n`);

const good = { brand: 'acme', published_at: '2026-03-02T09:15:00Z', sentiment: 'negative', author: '@someone', reach: 120, story: 's1' };
const jsonl = (rows: object[]) => `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`;

describe('earshot crisis replay FILE.jsonl', () => {
  it('prints the incidents the detector would have opened, then the summary', () => {
    expect(commandCrisis(['replay', historyFile], testCommandContext())).toBe(0);
    expect(output.stderr).toBe('');
    const out = lines();
    const summary = out.at(-1)!;
    expect(summary).toMatchObject({ incidents: out.length - 1, brands: 1 });
    expect(summary.weeks).toBeCloseTo((history.at(-1)!.at - history[0]!.at) / (7 * DAY), 2);
    expect(summary.warnings_per_week).toBeLessThanOrEqual(2);
    const burst = out.slice(0, -1).find((i) => Date.parse(i.opened_at as string) >= BURST_AT)!;
    expect(burst).toMatchObject({ brand: 'quiet', scope: 'all', severity: 'warning', escalated_at: null, critical_at: null });
    expect(Date.parse(burst.opened_at as string) - BURST_AT).toBeLessThanOrEqual(2 * HOUR);
    expect(burst.resolved_at).toEqual(expect.stringMatching(/^\d{4}-\d\d-\d\dT/));
    expect(burst.why).toMatchObject({ regime: 'low', rules: ['nb_tail'] });
    expect((burst.why as { summary: string }).summary).toMatch(/^negative in \d h: \d+ vs \d+\.\d expected \(p=\de-\d+\), \d+ authors$/);
  });

  it('ticks every --step minutes, and gives the same incidents at 5', () => {
    expect(commandCrisis(['replay', historyFile, '--step', '5'], testCommandContext())).toBe(0);
    const burst = lines().find((i) => i.opened_at !== undefined && Date.parse(i.opened_at as string) >= BURST_AT)!;
    expect(burst.severity).toBe('warning');
    expect(new Date(burst.opened_at as string).getUTCMinutes() % 5).toBe(0);
  });

  it('reads lines in any order, skips blank ones, and takes author, reach and story as optional', () => {
    const file = scratchFile(
      'loose.jsonl',
      `\n${jsonl([
        { ...good, published_at: '2026-03-02T10:00:00+03:00' },
        { brand: 'acme', published_at: '2026-03-02T05:00:00.000Z', sentiment: 'neutral' },
        { ...good, story: 42, reach: null, author: null },
      ])}\n`,
    );
    expect(commandCrisis(['replay', file], testCommandContext())).toBe(0);
    expect(lines()).toEqual([{ incidents: 0, warnings_per_week: 0, criticals_per_week: 0, brands: 1, weeks: 0.03 }]);
  });

  const bad: [what: string, body: string, message: RegExp][] = [
    ['bad JSON', `${JSON.stringify(good)}\n{"brand": acme}\n`, /bad-json\.jsonl:2: not JSON/],
    ['a line that is not an object', '[1, 2]\n', /:1: not a JSON object$/],
    ['a missing brand', jsonl([{ ...good, brand: undefined }]), /:1: brand: missing$/],
    ['an empty brand', jsonl([{ ...good, brand: '' }]), /:1: brand: a non-empty string \(got ""\)$/],
    ['a missing time', `\n\n${jsonl([{ ...good, published_at: undefined }])}`, /:3: published_at: missing$/],
    ['a time without a zone', jsonl([good, { ...good, published_at: '2026-03-02 09:15' }]), /:2: published_at: an ISO 8601 time with a zone, like 2026-03-02T09:15:00Z \(got "2026-03-02 09:15"\)$/],
    ['a time that is not one', jsonl([{ ...good, published_at: '2026-13-45T99:00:00Z' }]), /:1: published_at: an ISO 8601 time/],
    ['an unknown sentiment', jsonl([{ ...good, sentiment: 'angry' }]), /:1: sentiment: one of negative, neutral, positive \(got "angry"\)$/],
    ['a reach that is not a number', jsonl([{ ...good, reach: '10k' }]), /:1: reach: a number from 0 up, or null \(got "10k"\)$/],
    ['a negative reach', jsonl([{ ...good, reach: -5 }]), /:1: reach: a number from 0 up, or null \(got -5\)$/],
    ['an author that is not a string', jsonl([{ ...good, author: 7 }]), /:1: author: a string or null \(got 7\)$/],
    ['an empty story', jsonl([{ ...good, story: '' }]), /:1: story: a non-empty string or a number, or null \(got ""\)$/],
  ];

  it.each(bad)('rejects %s with exit 1, naming file:line: what is wrong, and prints nothing else', (what, body, message) => {
    const name = what === 'bad JSON' ? 'bad-json.jsonl' : `${what.replaceAll(' ', '-')}.jsonl`;
    const file = scratchFile(name, body);
    expect(commandCrisis(['replay', file], testCommandContext())).toBe(1);
    expect(output.stderr.trim()).toMatch(message);
    expect(output.stderr.startsWith(`${file}:`)).toBe(true);
    expect(output.stdout).toBe('');
  });

  // A UsageError is what main turns into exit code 2 with the message and the usage on stderr.
  it('needs the replay subcommand, one existing file and a step in minutes', () => {
    const usage = (args: string[]) => {
      const err = catchError(() => commandCrisis(args, testCommandContext()));
      expect(err).toBeInstanceOf(UsageError);
      return (err as Error).message;
    };
    expect(usage([])).toMatch(/crisis needs a subcommand: earshot crisis replay FILE\.jsonl/);
    expect(usage(['rerun', historyFile])).toMatch(/unknown crisis subcommand "rerun"/);
    expect(usage(['replay'])).toMatch(/crisis replay needs a file/);
    expect(usage(['replay', join(scratch, 'nope.jsonl')])).toMatch(/nope\.jsonl: no such file/);
    expect(usage(['replay', historyFile, 'other.jsonl'])).toMatch(/takes one file/);
    expect(usage(['replay', historyFile, '--step', '0'])).toMatch(/--step: minutes from 1 to 60 \(got 0\)/);
    expect(usage(['replay', historyFile, '--step', 'soon'])).toMatch(/--step: minutes from 1 to 60/);
    expect(output.stdout).toBe('');
  });
});
