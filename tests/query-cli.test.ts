import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandQuery } from '../bin/commands/query.ts';
import { UsageError } from '../bin/usage-error.ts';
import { captureOutput } from './helpers/capture-output.ts';
import { testCommandContext } from './helpers/command-context.ts';

// `earshot query test` in-process, output.stdout and output.stderr captured.
const output = captureOutput();

const lines = () => output.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
const scratch = mkdtempSync(join(tmpdir(), 'earshot-query-'));
function scratchFile(name: string, body: string): string {
  const file = join(scratch, name);
  writeFileSync(file, body);
  return file;
}
const jsonl = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

// Our own texts: the brand "Ромашка" is also a flower and a tea.
const sample = scratchFile(
  'sample.jsonl',
  jsonl([
    { id: 'a1', text: 'В магазине Ромашка опять нет сдачи' },
    { id: 'a2', text: 'Заварила чай с ромашкой' },
    { id: 3, title: 'Ромашки на Абая', text: 'Открылись в понедельник' },
    { text: 'Ничего общего' },
    { id: 'a5', text: 'Купила в Ромашке колёса для коляски, ромашку советую' },
  ]) + '\n',
);

describe('earshot query test', () => {
  it('prints each matching line with highlights, then the counts', () => {
    expect(commandQuery(['test', 'ромашка NOT (чай OR аптечная)', sample], testCommandContext())).toBe(0);
    expect(lines()).toEqual([
      { line: 1, id: 'a1', highlighted: 'В магазине [[Ромашка]] опять нет сдачи' },
      { line: 3, id: 3, highlighted: 'Открылись в понедельник', highlighted_title: '[[Ромашки]] на Абая' },
      { line: 5, id: 'a5', highlighted: 'Купила в [[Ромашке]] колёса для коляски, [[ромашку]] советую' },
      { query: 'ромашка NOT (чай OR аптечная)', lines: 5, matched: 3 },
    ]);
    expect(output.stderr).toBe('');
  });

  it('gives a null id to lines without one and counts zero matches', () => {
    expect(commandQuery(['test', '"ничего общего"', sample], testCommandContext())).toBe(0);
    expect(lines()).toEqual([
      { line: 4, id: null, highlighted: '[[Ничего общего]]' },
      { query: '"ничего общего"', lines: 5, matched: 1 },
    ]);
    output.stdout = '';
    expect(commandQuery(['test', 'kaspi', sample], testCommandContext())).toBe(0);
    expect(lines()).toEqual([{ query: 'kaspi', lines: 5, matched: 0 }]);
  });

  it('shows a syntax error with its column and a caret under it, exit 2', () => {
    expect(commandQuery(['test', 'ромашка AND (чай OR', sample], testCommandContext())).toBe(2);
    expect(output.stdout).toBe('');
    expect(output.stderr).toBe(
      'earshot: query: column 18: "OR" needs something after it\n' +
        '  ромашка AND (чай OR\n' +
        '                   ^\n',
    );
    output.stderr = '';
    expect(commandQuery(['test', 'kaspi NEAR bank', sample], testCommandContext())).toBe(2);
    expect(output.stderr.split('\n')).toEqual([
      'earshot: query: column 7: NEAR needs a distance, e.g. NEAR/3',
      '  kaspi NEAR bank',
      '        ^',
      '',
    ]);
  });

  it.each([
    ['bad-json.jsonl', '{"text": "ok"}\n{"text": broken}\n', /bad-json\.jsonl:2: not JSON/],
    ['no-text.jsonl', '{"text": "ok"}\n\n{"id": "x"}\n', /no-text\.jsonl:3: text: /],
    ['title-number.jsonl', '{"text": "ok", "title": 5}\n', /title-number\.jsonl:1: title: /],
  ])('rejects %s naming the file and line, exit 2', (name, body, message) => {
    expect(commandQuery(['test', 'ok', scratchFile(name, body)], testCommandContext())).toBe(2);
    expect(output.stdout).toBe('');
    expect(output.stderr).toMatch(/^earshot: query: /);
    expect(output.stderr).toMatch(message);
  });

  it.each([
    [[]],
    [['check', 'kaspi', 'x.jsonl']],
    [['test', 'kaspi']],
    [['test', 'kaspi', 'x.jsonl', 'extra']],
    [['test', 'kaspi', join(scratch, 'missing.jsonl')]],
  ])('throws a usage error for %j', (args) => {
    expect(() => commandQuery(args, testCommandContext())).toThrow(UsageError);
  });
});
