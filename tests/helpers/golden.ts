import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { expect } from 'vitest';

/**
 * Compares a parse result with its golden file (`fixtures/<recording>.golden.json`), committed and reviewed in
 * diffs. `UPDATE_GOLDEN=1 npx vitest run <file>` rewrites it; a missing golden file fails, it is never made
 * up silently.
 */
export function expectGolden(actual: unknown, goldenUrl: URL): void {
  const text = `${JSON.stringify(actual, null, 2)}\n`;
  if (process.env.UPDATE_GOLDEN === '1') {
    writeFileSync(goldenUrl, text);
    return;
  }
  if (!existsSync(goldenUrl)) {
    throw new Error(`no golden file ${goldenUrl.pathname}: run with UPDATE_GOLDEN=1 once, then review the file`);
  }
  expect(JSON.parse(text)).toEqual(JSON.parse(readFileSync(goldenUrl, 'utf8')));
}
