import { afterEach, beforeEach, vi } from 'vitest';

/** Captures what a CLI command writes, fresh for every test of the file that calls this at its top. */
export function captureOutput(): { stdout: string; stderr: string } {
  const captured = { stdout: '', stderr: '' };
  beforeEach(() => {
    captured.stdout = '';
    captured.stderr = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((captured.stdout += String(chunk)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((captured.stderr += String(chunk)), true));
  });
  afterEach(() => vi.restoreAllMocks());
  return captured;
}
