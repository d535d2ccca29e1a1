import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandCluster } from '../bin/commands/cluster.ts';
import { UsageError } from '../bin/usage-error.ts';
import { catchError } from './helpers/catch-error.ts';
import { captureOutput } from './helpers/capture-output.ts';
import { testCommandContext } from './helpers/command-context.ts';

// `earshot cluster` in-process: the command itself, output.stdout and output.stderr captured.
const output = captureOutput();

const scratch = mkdtempSync(join(tmpdir(), 'earshot-cluster-'));
function scratchFile(name: string, body: string): string {
  const file = join(scratch, name);
  writeFileSync(file, body);
  return file;
}
const jsonl = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
const lines = () => output.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);

// Our own texts: one complaint reposted three ways, a review pasted on two branches, a story of its own.
const COMPLAINT = 'Ромашка опять списала деньги дважды, поддержка молчит уже третий день, а в приложении висит ошибка оплаты.';
const REVIEW = 'Быстро обслужили, кофе горячий, персонал вежливый, но парковка у входа всегда занята.';

describe('earshot cluster FILE.jsonl', () => {
  it('prints one line per input line, in input order, with the id of the cluster’s first member', () => {
    const file = scratchFile(
      'mentions.jsonl',
      jsonl([
        { id: 'vk-1', text: COMPLAINT, source: 'vk' },
        { id: 'tg-7', text: 'В Алматы открыли новую ветку метро, первые поезда пошли сегодня утром по расписанию.' },
        { id: 'x-3', text: `RT @aigerim_k: ${COMPLAINT}` },
        { id: 41, text: REVIEW },
        { id: 42, text: REVIEW },
        { id: 'tg-9', text: `Forwarded from Жалобы KZ\n${COMPLAINT.toUpperCase()} 😡` },
        { id: 'vk-2', text: `Ужас, у меня так же.\n\n${COMPLAINT}` },
      ]),
    );
    expect(commandCluster([file], testCommandContext())).toBe(0);
    expect(lines()).toEqual([
      { id: 'vk-1', cluster: 'vk-1' },
      { id: 'tg-7', cluster: 'tg-7' },
      { id: 'x-3', cluster: 'vk-1' },
      { id: 41, cluster: 41 },
      { id: 42, cluster: 41 },
      { id: 'tg-9', cluster: 'vk-1' },
      { id: 'vk-2', cluster: 'vk-1' },
    ]);
    expect(output.stdout.endsWith('}\n')).toBe(true);
    expect(output.stderr).toBe('');
  });

  it('skips blank lines and prints nothing for an empty file', () => {
    expect(commandCluster([scratchFile('blank.jsonl', `\n${JSON.stringify({ id: 'a', text: REVIEW })}\n\n`)], testCommandContext())).toBe(0);
    expect(lines()).toEqual([{ id: 'a', cluster: 'a' }]);
    output.stdout = '';
    expect(commandCluster([scratchFile('empty.jsonl', '')], testCommandContext())).toBe(0);
    expect(output.stdout).toBe('');
  });

  const bad: [what: string, file: string, body: string, message: RegExp][] = [
    ['bad JSON', 'bad-json', `${JSON.stringify({ id: 'a', text: REVIEW })}\n{"id": "b", text}\n`, /bad-json\.jsonl:2: not JSON/],
    ['a missing text', 'missing-text', `${JSON.stringify({ id: 'a', text: REVIEW })}\n\n${JSON.stringify({ id: 'b' })}\n`, /missing-text\.jsonl:3: text: missing$/],
    ['a missing id', 'missing-id', `${JSON.stringify({ text: REVIEW })}\n`, /missing-id\.jsonl:1: id: missing$/],
    ['a text that is not a string', 'not-string', `${JSON.stringify({ id: 'a', text: 5 })}\n`, /not-string\.jsonl:1: text: a string \(got 5\)$/],
    ['an id that is neither a string nor a number', 'bad-id', `${JSON.stringify({ id: null, text: REVIEW })}\n`, /bad-id\.jsonl:1: id: /],
    ['a repeated id', 'repeated', jsonl([{ id: 'a', text: REVIEW }, { id: 'a', text: COMPLAINT }]), /repeated\.jsonl:2: id: "a" is already on line 1$/],
    ['a line that is not an object', 'array', '["a", "text"]\n', /array\.jsonl:1: not a JSON object$/],
  ];

  // A UsageError is what main turns into exit code 2 with the message and the usage on stderr.
  it.each(bad)('rejects %s, naming file:line: field, and prints nothing', (_what, name, body, message) => {
    const err = catchError(() => commandCluster([scratchFile(`${name}.jsonl`, body)], testCommandContext()));
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(message);
    expect(output.stdout).toBe('');
  });

  it('needs an existing file', () => {
    expect((catchError(() => commandCluster([], testCommandContext())) as Error).message).toMatch(/cluster needs a file/);
    expect((catchError(() => commandCluster([join(scratch, 'nope.jsonl')], testCommandContext())) as Error).message).toMatch(/nope\.jsonl: no such file/);
  });
});
