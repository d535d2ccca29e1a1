import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { TEXT_CLASSES, type TextClass } from './types.ts';

export interface LabelledText {
  text: string;
  label: TextClass;
  /** 1-based line in the file, for messages. */
  line: number;
}

const lineSchema = z.object({
  text: z.string().min(1),
  label: z.enum(TEXT_CLASSES as [TextClass, ...TextClass[]]),
});

/** Reads JSONL lines with `text` and `label`; a bad line fails with its file, line and field. */
export function readLabelledJsonl(path: string): LabelledText[] {
  const rows: LabelledText[] = [];
  const lines = readFileSync(path, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      throw new Error(`${path}:${i + 1}: not JSON (${(error as Error).message})`);
    }
    const parsed = lineSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new Error(`${path}:${i + 1}: ${issue.path.join('.') || 'line'}: ${issue.message}`);
    }
    rows.push({ text: parsed.data.text, label: parsed.data.label, line: i + 1 });
  }
  return rows;
}
