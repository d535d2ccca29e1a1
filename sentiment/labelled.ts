import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { TEXT_CLASSES, TEXT_KINDS, type TextClass, type TextKind } from './types.ts';

export interface LabelledText {
  text: string;
  label: TextClass;
  /** 1-based line in the file, for messages. */
  line: number;
  /** Which dataset the line came from, when the file says. */
  source?: string;
  /** The line's own `kind`, else its source's (see DATASET_SOURCES); absent when neither says. */
  kind?: TextKind;
  /** Stars the review came with: the line's own `rating`, else read back from the label of a star-labelled source. */
  rating?: number;
}

/**
 * The datasets of the developers' sentiment files (their PROVENANCE.md), by the `source` their lines carry:
 * what kind of text each is, and whether its label was read from the review's stars (1–2★ negative, 3★
 * neutral, 4–5★ positive). For those the stars can be given back to the model as production gives them: 1, 3
 * or 5 stars decide the same label as 2, 3 or 4 would.
 */
export const DATASET_SOURCES: Readonly<Record<string, { kind: TextKind; labelFromStars: boolean }>> = {
  'semeval2017-task4a': { kind: 'post', labelFromStars: false },
  'crowdflower-apple-twitter': { kind: 'post', labelFromStars: false },
  'crowdflower-sxsw-brands': { kind: 'post', labelFromStars: false },
  'sentirueval2016-banks-train': { kind: 'post', labelFromStars: false },
  'sentirueval2016-tkk-train': { kind: 'post', labelFromStars: false },
  'rusentitweet-train': { kind: 'post', labelFromStars: false },
  'sentirueval2015-reviews': { kind: 'review', labelFromStars: false },
  'uci-sentences-amazon': { kind: 'review', labelFromStars: false },
  'uci-sentences-yelp': { kind: 'review', labelFromStars: false },
  'uzbek-app-reviews-manual': { kind: 'review', labelFromStars: false },
  'machine-translated': { kind: 'review', labelFromStars: false },
  'uzum-market-reviews': { kind: 'review', labelFromStars: true },
  'kazsandra-sc-train': { kind: 'review', labelFromStars: true },
  'kazsandra-sc-valid': { kind: 'review', labelFromStars: true },
};

const STARS_OF_LABEL: Record<TextClass, number> = { negative: 1, neutral: 3, positive: 5 };

const lineSchema = z.object({
  text: z.string().min(1),
  label: z.enum(TEXT_CLASSES as [TextClass, ...TextClass[]]),
  source: z.string().optional(),
  kind: z.enum(TEXT_KINDS).optional(),
  rating: z.number().int().min(1).max(5).optional(),
});

/**
 * Reads JSONL lines with `text` and `label` (and optionally `source`, `kind`, `rating`); a bad line fails with
 * its file, line and field.
 */
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
    const { text, label, source } = parsed.data;
    const known = source === undefined ? undefined : DATASET_SOURCES[source];
    const kind = parsed.data.kind ?? known?.kind;
    const rating = parsed.data.rating ?? (known?.labelFromStars ? STARS_OF_LABEL[label] : undefined);
    rows.push({
      text, label, line: i + 1,
      ...(source === undefined ? {} : { source }), ...(kind === undefined ? {} : { kind }), ...(rating === undefined ? {} : { rating }),
    });
  }
  return rows;
}
