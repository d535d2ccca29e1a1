import { once } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { drainHttpServer } from './http-drain.ts';

// A plain HTTP server whose answers the test releases, and raw keep-alive connections: what a stop sees.

interface Held {
  res: ServerResponse;
  streaming: boolean;
}

async function startServer(): Promise<{ server: Server; port: number; held: Held[]; arrived: () => Promise<Held> }> {
  const held: Held[] = [];
  const waiting: ((h: Held) => void)[] = [];
  let taken = 0;
  const server = createServer((req, res) => {
    if (req.url === '/now') return void res.writeHead(200, { 'content-length': '2' }).end('ok');
    // /stream: headers out at once, the body later; /held: nothing until released.
    const streaming = req.url === '/stream';
    if (streaming) res.writeHead(200, { 'content-type': 'text/plain' }).write('a');
    const h = { res, streaming };
    held.push(h);
    if (waiting.length > 0 && held.length <= taken) waiting.shift()!(h);
  });
  // As long as fastify's 72 s and then some: only the drain closes a connection in these tests.
  server.keepAliveTimeout = 600_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    server, port, held,
    // The next request to reach the handler, in order.
    arrived: () => new Promise((resolve) => {
      const index = taken++;
      if (index < held.length) resolve(held[index]!);
      else waiting.push(resolve);
    }),
  };
}

async function open(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  return socket;
}

/** Everything the connection receives until the server closes it. */
function untilClosed(socket: Socket): Promise<string> {
  let text = '';
  socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
  return once(socket, 'close').then(() => text);
}

function refused(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => reject(new Error('still accepting')));
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? ''));
  });
}

describe('drainHttpServer', () => {
  const sockets: Socket[] = [];
  const servers: Server[] = [];
  afterEach(() => {
    for (const s of sockets.splice(0)) s.destroy();
    for (const s of servers.splice(0)) s.closeAllConnections();
  });

  it('refuses new connections, closes the idle ones, and closes each busy one after its answer', async () => {
    const { server, port, arrived } = await startServer();
    servers.push(server);
    const drain = drainHttpServer(server);
    const idle = await open(port);
    const busy = await open(port);
    const streaming = await open(port);
    sockets.push(idle, busy, streaming);
    idle.write('GET /now HTTP/1.1\r\nHost: x\r\n\r\n');
    await once(idle, 'data');
    const idleClosed = untilClosed(idle);
    busy.write('GET /held HTTP/1.1\r\nHost: x\r\n\r\n');
    const heldRequest = await arrived();
    streaming.write('GET /stream HTTP/1.1\r\nHost: x\r\n\r\n');
    const streamRequest = await arrived();
    expect(drain.counts()).toEqual({ inFlight: 2, connections: 3 });
    const busyText = untilClosed(busy);
    const streamText = untilClosed(streaming);

    drain.startClosing();
    expect(await refused(port)).toBe('ECONNREFUSED');
    await idleClosed;
    heldRequest.res.writeHead(200, { 'content-length': '4' }).end('done');
    // Its headers were out before the stop: it said keep-alive, and is closed once its answer is complete.
    streamRequest.res.end('b');
    const answered = await busyText;
    expect(answered).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\nConnection: close\r\n/);
    expect(answered.endsWith('\r\n\r\ndone')).toBe(true);
    expect(await streamText).toMatch(/keep-alive[\s\S]*\r\n\r\n[\s\S]*a[\s\S]*b/);
    await drain.closed();
    expect(drain.counts()).toEqual({ inFlight: 0, connections: 0 });
  });

  it('destroys every connection, requests in flight included, when told', async () => {
    const { server, port, arrived } = await startServer();
    servers.push(server);
    const drain = drainHttpServer(server);
    const busy = await open(port);
    sockets.push(busy);
    busy.write('GET /held HTTP/1.1\r\nHost: x\r\n\r\n');
    await arrived();
    const busyText = untilClosed(busy);
    drain.startClosing();
    drain.destroyAll();
    expect(await busyText).toBe('');
    await drain.closed();
  });
});
