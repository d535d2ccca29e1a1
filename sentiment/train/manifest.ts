import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { MODELS_DIR } from '../analyze.ts';

// What npm run train:sentiment wrote beside the shipped weights: per language, the model's name and its
// scores on each dev file at training time, the production-like one first. The dev files stay with the developers.
const entrySchema = z.object({
  model: z.string(),
  dev: z.array(z.object({ file: z.string(), n: z.number().int(), macro_f1: z.number(), accuracy: z.number() })).min(1),
});
const manifestSchema = z.record(z.string(), entrySchema);

export type ModelManifestEntry = z.output<typeof entrySchema>;

let manifest: ReadonlyMap<string, ModelManifestEntry> | undefined;

/** The shipped models' manifest (sentiment/models/MANIFEST.json) by language, read once per process. */
export function readModelManifest(): ReadonlyMap<string, ModelManifestEntry> {
  if (manifest === undefined) {
    const path = `${MODELS_DIR}MANIFEST.json`;
    const parsed = manifestSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
    if (!parsed.success) throw new Error(`${path}: ${parsed.error.issues[0]!.path.join('.')}: ${parsed.error.issues[0]!.message}`);
    manifest = new Map(Object.entries(parsed.data));
  }
  return manifest;
}
