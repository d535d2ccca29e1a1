import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { compileQuery, highlight, matchTitleAndText, QuerySyntaxError, type CompiledQuery } from '../../pipeline/query.ts';
import type { CommandContext } from '../context.ts';
import { UsageError } from '../usage-error.ts';

const HOW = `query needs "test '<query>' FILE.jsonl", e.g. earshot query test 'kaspi NOT casino' sample.jsonl`;

const lineSchema = z.object({
  text: z.string(),
  id: z.union([z.string(), z.number()]).nullable().optional(),
  title: z.string().nullable().optional(),
});

interface Item {
  line: number;
  id: string | number | null;
  title: string | null;
  text: string;
}

/** A problem the command reports itself: exit 2 with this line, without the usage text. */
class InputError extends Error {}

/**
 * `earshot query test '<query>' FILE.jsonl`: one JSON line per JSONL line the query matches (its line number,
 * id and the text with the matching words in [[brackets]]), then a summary line with the counts. Matches
 * title and text together, as ingestion does.
 */
export function commandQuery(args: string[], ctx: CommandContext): number {
  const [sub, source, file, ...extra] = args;
  if (sub !== 'test' || source === undefined || file === undefined || extra.length > 0) throw new UsageError(HOW);
  try {
    const query = compile(source);
    if (!existsSync(file)) throw new UsageError(`${file}: no such file`);
    const items = readItems(file);
    let matched = 0;
    for (const item of items) {
      const found = matchTitleAndText(query, item.title, item.text);
      if (found === null) continue;
      matched++;
      const title = item.title === null ? {} : { highlighted_title: highlight(item.title, found.title) };
      ctx.io.out(`${JSON.stringify({ line: item.line, id: item.id, highlighted: highlight(item.text, found.text), ...title })}\n`);
    }
    ctx.io.out(`${JSON.stringify({ query: source, lines: items.length, matched })}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    ctx.io.err(`earshot: query: ${err.message}\n`);
    return 2;
  }
}

function compile(source: string): CompiledQuery {
  try {
    return compileQuery(source);
  } catch (err) {
    if (!(err instanceof QuerySyntaxError)) throw err;
    // The query on its own line with a caret under the column; tabs and newlines shown as spaces keep it aligned.
    const shown = source.replace(/\s/g, ' ');
    throw new InputError(`${err.message}\n  ${shown}\n  ${' '.repeat(err.column - 1)}^`);
  }
}

/** Lines with `text` (and optional `id`, `title`); the first bad one fails with its file and line. */
function readItems(file: string): Item[] {
  const items: Item[] = [];
  const lines = readFileSync(file, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      throw new InputError(`${file}:${i + 1}: not JSON (${(err as Error).message})`);
    }
    const parsed = lineSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new InputError(`${file}:${i + 1}: ${issue.path.join('.') || 'line'}: ${issue.message}`);
    }
    items.push({ line: i + 1, id: parsed.data.id ?? null, title: parsed.data.title ?? null, text: parsed.data.text });
  }
  return items;
}
