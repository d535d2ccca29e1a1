import { stdio, type CommandContext } from '../../bin/context.ts';
import { createRuntime } from '../../bin/runtime.ts';
import { silentLogger } from '../../log/logger.ts';
import type { Store } from '../../store/connect.ts';

/**
 * A command's context in a test: this process's environment, directory and stdout/stderr (captureOutput sees
 * them), and the composition root's runtime on the given store (left open for the test to close).
 */
export function testCommandContext(opts: { store?: Store; now?: () => Date } = {}): CommandContext {
  const runtime = createRuntime({ env: process.env, dataDir: '', role: 'test', log: silentLogger, ...(opts.store ? { store: opts.store } : {}) });
  return { env: process.env, cwd: process.cwd(), io: stdio, now: opts.now ?? runtime.now, runtime };
}
