import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../config/load.ts';
import type { EarshotConfig } from '../config/schema.ts';
import { createLogger, type Logger } from '../log/logger.ts';
import type { Runtime } from './runtime.ts';

export type Env = Readonly<Record<string, string | undefined>>;

/** Where a command writes: the terminal, or the socket of an earshot command run inside the product. */
export interface CommandIo {
  out(text: string): void;
  err(text: string): void;
}

/**
 * What a command is given: its caller's environment, working directory and output, and the process's
 * runtime (its own when it runs alone, the product's when `earshot run` runs it for a CLI beside it).
 */
export interface CommandContext {
  env: Env;
  cwd: string;
  io: CommandIo;
  /** Aborted when the caller goes away (a CLI beside the product pressed Ctrl-C). */
  signal?: AbortSignal;
  now: () => Date;
  runtime: Runtime;
}

export const stdio: CommandIo = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

const EXAMPLE_CONFIG = fileURLToPath(new URL('../config/earshot.example.yaml', import.meta.url));

/** A path the caller gave, relative to the caller's directory (which is not the product's, for a CLI beside it). */
export function callerPath(ctx: Pick<CommandContext, 'cwd'>, path: string): string {
  return isAbsolute(path) ? path : resolve(ctx.cwd, path);
}

/** The config a command uses: `--config`, else EARSHOT_CONFIG, else the example, read with the caller's env. */
function configPathOf(ctx: Pick<CommandContext, 'env' | 'cwd'>, flag: string | undefined): string {
  const given = flag ?? ctx.env.EARSHOT_CONFIG;
  return given === undefined ? EXAMPLE_CONFIG : callerPath(ctx, given);
}

export function loadCommandConfig(ctx: CommandContext, flag: string | undefined): { file: string; config: EarshotConfig } {
  const file = configPathOf(ctx, flag);
  return { file, config: loadConfig(file, { env: ctx.env, crawlers: ctx.runtime.crawlers }) };
}

/** The embedded data directory of the caller's environment. */
export function dataDirOf(ctx: Pick<CommandContext, 'env' | 'cwd'>): string {
  return callerPath(ctx, ctx.env.EARSHOT_DATA_DIR ?? './data');
}

/** A command's logger: JSON lines on the caller's stderr, at LOG_LEVEL or the command's default. */
export function commandLogger(ctx: Pick<CommandContext, 'env' | 'io'>, defaultLevel: string): Logger {
  const level = ctx.env.LOG_LEVEL ?? defaultLevel;
  if (ctx.io === stdio) return createLogger({ level });
  return createLogger({ level, stream: { write: (line: string) => ctx.io.err(line) } });
}
