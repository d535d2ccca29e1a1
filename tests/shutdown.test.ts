import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runEarshot, startEarshot, type EarshotProcess } from './helpers/earshot-process.ts';

// Stopping `earshot run`: driven by what the process prints and what its sockets do, never by waiting a while.
// Each test starts the real CLI on one embedded data directory (seconds on PGlite; a loaded machine needs room).

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Reads one HTTP/1.1 answer (after any `100 Continue`) from a socket, by its Content-Length. */
function readAnswer(socket: Socket): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const [statusLine, ...lines] = buffer.subarray(0, end).toString('latin1').split('\r\n');
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine!)?.[1]);
        if (status === 100) {
          buffer = buffer.subarray(end + 4);
          continue;
        }
        const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
        const length = Number(headers['content-length'] ?? 0);
        if (buffer.length < end + 4 + length) return;
        socket.off('data', onData);
        socket.off('close', onClose);
        resolve({ status, headers, body: buffer.subarray(end + 4, end + 4 + length).toString('utf8') });
        return;
      }
    };
    const onClose = () => reject(new Error(`the connection closed before an answer: ${buffer.toString('latin1')}`));
    socket.on('data', onData);
    socket.once('close', onClose);
  });
}

async function connectTo(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  return socket;
}

/**
 * A request in flight: its headers sent and taken in (the server said `100 Continue`, which it does as it hands
 * the request to the app), its body not yet. `finish` sends the body and reads the answer.
 */
async function requestInFlight(port: number, key: string): Promise<{ socket: Socket; finish(): Promise<Answer> }> {
  const socket = await connectTo(port);
  const body = JSON.stringify({ brand: 'Acme', query: 'acme', limit: 5 });
  const continued = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      if (!chunk.toString('latin1').startsWith('HTTP/1.1 100')) return reject(new Error(`expected 100 Continue, got ${chunk.toString('latin1')}`));
      socket.off('data', onData);
      resolve();
    };
    socket.on('data', onData);
  });
  socket.write(
    `POST /api/v1/query/preview HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${key}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\n\r\n`,
  );
  await continued;
  return {
    socket,
    finish() {
      const answer = readAnswer(socket);
      socket.write(body);
      return answer;
    },
  };
}

/** Resolves with the error code of a connection attempt (ECONNREFUSED), or throws when it connects. */
function connectionError(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      reject(new Error(`port ${port} still accepts connections`));
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

describe('stopping earshot run', { timeout: 240_000 }, () => {
  const scratch = mkdtempSync(join(tmpdir(), 'earshot-shutdown-'));
  const config = join(scratch, 'earshot.yaml');
  const env: Record<string, string> = { EARSHOT_DATA_DIR: join(scratch, 'data'), EARSHOT_CONFIG: config, PORT: '0' };
  let key = '';
  let running: EarshotProcess | undefined;
  const sockets: Socket[] = [];

  /** Starts `earshot run` and resolves with its port once it prints that it listens. */
  async function start(extraEnv: Record<string, string> = {}): Promise<number> {
    running = startEarshot(['run'], { ...env, ...extraEnv });
    const line = await running.waitForLine(/^earshot is listening on /);
    return Number(/listening on http:\/\/127\.0\.0\.1:(\d+) /.exec(line)![1]);
  }

  beforeAll(async () => {
    writeFileSync(config, 'brands: [{ name: Acme, keywords: [acme] }]\nteams: [{ id: support, name: Support }]\nrouting: { defaultTeam: support }\n');
    const created = await runEarshot(['apikey', 'create', '--name', 'shutdown', '--scopes', 'read'], env);
    expect(created.code, created.stderr).toBe(0);
    key = created.stdout.trim();
  });
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    if (running && running.child.exitCode === null && running.child.signalCode === null) {
      running.child.kill('SIGKILL');
      await running.exited;
    }
    running = undefined;
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('refuses new connections at once, answers the request in flight, closes idle keep-alive connections and exits 0', async () => {
    // Ten minutes: however busy the machine, this stop is never cut short.
    const port = await start({ EARSHOT_SHUTDOWN_SECONDS: '600' });
    const idle = await connectTo(port);
    sockets.push(idle);
    idle.write(`GET /health HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    const health = await readAnswer(idle);
    expect(health.status).toBe(200);
    expect(health.headers.connection).toBe('keep-alive');
    const idleClosed = once(idle, 'close');
    const inFlight = await requestInFlight(port, key);
    sockets.push(inFlight.socket);

    running!.child.kill('SIGTERM');
    const stopping = await running!.waitForLine(/^earshot is stopping/);
    expect(stopping).toMatch(/^earshot is stopping \(SIGTERM\): no new connections; waiting for 1 request in flight \(at most 600 s;/);
    expect(await connectionError(port)).toBe('ECONNREFUSED');
    // The keep-alive connection that had nothing to do is closed by the server.
    await idleClosed;

    // The request in flight gets its whole answer, and its connection ends after it.
    const answer = await inFlight.finish();
    expect(answer.status).toBe(200);
    expect(answer.headers.connection).toBe('close');
    expect(JSON.parse(answer.body)).toMatchObject({ query: 'acme', scanned: 0, matched: 0, data: [] });
    await once(inFlight.socket, 'close');

    const run = await running!.exited;
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
  });

  it('exits at once, with 143, on a second SIGTERM, saying what it did not wait for', async () => {
    const port = await start({ EARSHOT_SHUTDOWN_SECONDS: '600' });
    const inFlight = await requestInFlight(port, key);
    sockets.push(inFlight.socket);
    running!.child.kill('SIGTERM');
    await running!.waitForLine(/^earshot is stopping/);

    running!.child.kill('SIGTERM');
    const run = await running!.exited;
    expect(run.code).toBe(143);
    expect(run.stderr).toMatch(/^earshot: SIGTERM again: exiting now, without waiting for 1 request in flight$/m);
    // The data directory is free again at once: the next start takes it over (the kernel freed the lock).
    await start();
    // Stopped the moment it says it listens: a graceful stop too (the line is printed once the signals are its own).
    running!.child.kill('SIGTERM');
    const next = await running!.exited;
    expect({ code: next.code, signal: next.signal }, `${next.stdout}\n${next.stderr}`).toEqual({ code: 0, signal: null });
  });

  it('cuts short what is still going when the stop takes longer than EARSHOT_SHUTDOWN_SECONDS, says what, and exits 1', async () => {
    const port = await start({ EARSHOT_SHUTDOWN_SECONDS: '1' });
    // This request's body never comes: only the deadline can end the stop.
    const inFlight = await requestInFlight(port, key);
    sockets.push(inFlight.socket);
    const dropped = once(inFlight.socket, 'close');

    running!.child.kill('SIGTERM');
    const run = await running!.exited;
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^earshot is stopping \(SIGTERM\): no new connections; waiting for 1 request in flight \(at most 1 s;/m);
    expect(run.stderr).toMatch(/^earshot: still stopping after 0\.8 s: cut short 1 request in flight$/m);
    await dropped;
  });
});
