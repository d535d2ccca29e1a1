import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../log/logger.ts';
import { acquireDataDirLock, connectToDataDirOwner } from '../store/data-dir-lock.ts';
import { runInDataDirOwner, serveCommands } from './command-channel.ts';
import type { CommandIo } from './context.ts';

const dirs: string[] = [];
function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-channel-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function capture(): CommandIo & { out_: string; err_: string } {
  const io = { out_: '', err_: '', out: (t: string) => void (io.out_ += t), err: (t: string) => void (io.err_ += t) };
  return io;
}

describe('commands sent to the process that holds the data directory', () => {
  it('runs there with the caller\'s arguments, environment and directory, its output and exit code streamed back', async () => {
    const dir = dataDir();
    const lock = await acquireDataDirLock(dir, { role: 'run', serves: true });
    try {
      serveCommands(lock, async (request, io) => {
        io.out(`${request.argv.join(' ')} in ${request.cwd} as ${request.env.WHO}\n`);
        io.err('a warning\n');
        return 3;
      }, silentLogger);
      const io = capture();
      expect(await runInDataDirOwner(dir, { argv: ['targets', '--json'], env: { WHO: 'olga' }, cwd: '/somewhere' }, io)).toBe(3);
      expect(io.out_).toBe('targets --json in /somewhere as olga\n');
      expect(io.err_).toBe('a warning\n');
    } finally {
      await lock.release();
    }
    // Nobody holds it now: the caller runs the command itself.
    expect(await runInDataDirOwner(dir, { argv: ['targets'], env: {}, cwd: '/' }, capture())).toBeNull();
  });

  it('refuses a caller without the token kept in the data directory', async () => {
    const dir = dataDir();
    const lock = await acquireDataDirLock(dir, { role: 'run', serves: true });
    let ran = 0;
    serveCommands(lock, async () => ++ran, silentLogger);
    try {
      const socket = (await connectToDataDirOwner(dir))!;
      const answer = await new Promise<string>((resolve) => {
        let text = '';
        socket.on('data', (c: Buffer) => (text += c.toString()));
        socket.on('close', () => resolve(text));
        socket.write(`${JSON.stringify({ token: 'guess', argv: ['apikey', 'create', '--name', 'x'], env: {}, cwd: '/' })}\n`);
      });
      expect(JSON.parse(answer)).toEqual({ refused: 'not an earshot command of the user that owns the data directory' });
      expect(ran).toBe(0);
    } finally {
      await lock.release();
    }
  });

  it('tells the caller at once when the holder is another command, not the product', async () => {
    const dir = dataDir();
    const lock = await acquireDataDirLock(dir, { role: 'crawl', serves: false });
    try {
      const io = capture();
      expect(await runInDataDirOwner(dir, { argv: ['targets'], env: {}, cwd: '/' }, io)).toBe(1);
      expect(io.err_).toMatch(new RegExp(`in use by another earshot command \\(crawl, pid ${process.pid}\\); try again when it ends`));
    } finally {
      await lock.release();
    }
  });
});
