import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createClusterIndex } from '../../pipeline/cluster.ts';
import type { CommandContext } from '../context.ts';
import { UsageError } from '../usage-error.ts';

interface Line {
  id: string | number;
  text: string;
}

/**
 * `earshot cluster FILE.jsonl`: reads lines with `id` and `text` and prints `{"id", "cluster"}` for each, in
 * input order, the cluster being the id of its first member. The same rule as ingestion's, without a database.
 */
export function commandCluster(args: string[], ctx: CommandContext): number {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  const [file] = positionals;
  if (file === undefined) throw new UsageError('cluster needs a file: earshot cluster FILE.jsonl');
  if (!existsSync(file)) throw new UsageError(`${file}: no such file`);
  // Every line is checked before anything is printed: a bad file gives an error, not half an answer.
  const lines = readLines(file);
  const index = createClusterIndex();
  // The cluster is printed as its first member's id was given: a number stays a number.
  const given = new Map(lines.map((line) => [String(line.id), line.id]));
  const out = lines.map(({ id, text }) => JSON.stringify({ id, cluster: given.get(index.add(String(id), text)) }));
  ctx.io.out(out.length === 0 ? '' : `${out.join('\n')}\n`);
  return 0;
}

function readLines(file: string): Line[] {
  const lines: Line[] = [];
  const seen = new Map<string, number>();
  const rows = readFileSync(file, 'utf8').split('\n');
  for (let i = 0; i < rows.length; i++) {
    const raw = rows[i]!.trim();
    if (raw === '') continue;
    const where = `${file}:${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      throw new UsageError(`${where}: not JSON (${(err as Error).message})`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError(`${where}: not a JSON object`);
    const { id, text } = value as Record<string, unknown>;
    if (id === undefined) throw new UsageError(`${where}: id: missing`);
    if (!(typeof id === 'string' && id !== '') && !(typeof id === 'number' && Number.isFinite(id))) {
      throw new UsageError(`${where}: id: a non-empty string or a number (got ${JSON.stringify(id)})`);
    }
    if (text === undefined) throw new UsageError(`${where}: text: missing`);
    if (typeof text !== 'string') throw new UsageError(`${where}: text: a string (got ${JSON.stringify(text)})`);
    // A cluster is named by its first member's id: two lines with one id would make the names ambiguous.
    const first = seen.get(String(id));
    if (first !== undefined) throw new UsageError(`${where}: id: ${JSON.stringify(id)} is already on line ${first}`);
    seen.set(String(id), i + 1);
    lines.push({ id, text });
  }
  return lines;
}
