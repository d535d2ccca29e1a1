import type { Socket } from 'node:net';
import { z } from 'zod';
import type { Logger } from '../log/logger.ts';
import { connectToDataDirOwner, isOwnerToken, readOwnerToken, type DataDirLock } from '../store/data-dir-lock.ts';
import type { CommandIo, Env } from './context.ts';

// A CLI beside `earshot run` on the embedded database: the product holds the data directory, so the CLI sends
// its command over the directory's socket and the product runs it, on its own store, with the CLI's
// arguments, environment and directory, its output streamed back. One JSON line each way per message:
//   CLI → product:  {token, argv, env, cwd}
//   product → CLI:  {out: text} | {err: text} | {exit: code} | {refused: why}

const requestSchema = z.object({
  token: z.string(),
  argv: z.array(z.string()),
  env: z.record(z.string(), z.string()),
  cwd: z.string(),
});

export type CommandRequest = Omit<z.infer<typeof requestSchema>, 'token'>;

export type RunRequest = (request: CommandRequest, io: CommandIo, signal: AbortSignal) => Promise<number>;

/** Answers the commands of CLIs beside the product, one connection each. */
export function serveCommands(lock: DataDirLock, run: RunRequest, log: Logger): void {
  lock.serve((socket) => {
    const send = (message: object) => {
      if (!socket.destroyed) socket.write(`${JSON.stringify(message)}\n`);
    };
    const abort = new AbortController();
    socket.once('close', () => abort.abort(new Error('the command line that sent this command went away')));
    socket.on('error', () => undefined);
    readLines(socket, async (line) => {
      const parsed = requestSchema.safeParse(parseJson(line));
      if (!parsed.success || !isOwnerToken(lock.dataDir, parsed.data.token)) {
        send({ refused: 'not an earshot command of the user that owns the data directory' });
        socket.end();
        return false;
      }
      const { token: _token, ...request } = parsed.data;
      log.info({ command: request.argv[0] }, 'running a command for a CLI beside the product');
      const io: CommandIo = { out: (text) => send({ out: text }), err: (text) => send({ err: text }) };
      let code = 1;
      try {
        code = await run(request, io, abort.signal);
      } catch (err) {
        io.err(`earshot: ${(err as Error).stack ?? String(err)}\n`);
      }
      send({ exit: code });
      socket.end();
      return false;
    });
  });
}

/**
 * Runs the command in the process that holds the data directory, if one does: resolves to its exit code,
 * with its output written to `io`; null when no process holds the directory (run the command here).
 */
export async function runInDataDirOwner(dataDir: string, request: CommandRequest, io: CommandIo): Promise<number | null> {
  const socket = await connectToDataDirOwner(dataDir);
  if (!socket) return null;
  let token: string;
  try {
    token = readOwnerToken(dataDir);
  } catch {
    token = '';
  }
  return new Promise((resolve) => {
    let code: number | null = null;
    socket.on('error', () => undefined);
    socket.once('close', () => {
      if (code === null) io.err('earshot: the running earshot process closed the connection before the command ended\n');
      resolve(code ?? 1);
    });
    readLines(socket, (line) => {
      const message = parseJson(line) as { out?: string; err?: string; exit?: number; refused?: string } | null;
      if (typeof message?.out === 'string') io.out(message.out);
      else if (typeof message?.err === 'string') io.err(message.err);
      else if (typeof message?.refused === 'string') {
        io.err(`earshot: ${message.refused}\n`);
        code = 1;
      } else if (typeof message?.exit === 'number') code = message.exit;
      return true;
    });
    socket.write(`${JSON.stringify({ token, ...request })}\n`);
  });
}

/** Calls `onLine` for each line; it returns false to stop reading. */
function readLines(socket: Socket, onLine: (line: string) => boolean | Promise<boolean>): void {
  let buffer = '';
  let chain = Promise.resolve(true);
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      chain = chain.then((more) => (more ? onLine(line) : false));
    }
  });
}

function parseJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return null;
  }
}

/** The caller's environment as the product needs it to run the command: only set values. */
export function envOf(env: Env): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}
