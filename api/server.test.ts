import { once } from 'node:events';
import { STATUS_CODES } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { Store } from '../store/connect.ts';
import { createTestStore } from '../tests/helpers/test-store.ts';
import { buildApp } from './app.ts';
import { PROBLEM_CONTENT_TYPE } from './errors.ts';
import { startServer } from './server.ts';
import { createBearer } from './test-seed.ts';

describe('startServer', () => {
  let store: Store;
  let app: FastifyInstance;
  beforeAll(async () => {
    store = await createTestStore();
    app = await buildApp({ db: store.db, storeKind: store.kind });
  });
  afterAll(async () => {
    await app.close();
    await store.close();
  });

  it('listens on the given host and returns the address', async () => {
    const address = await startServer(app, { host: '127.0.0.1', port: 0 });
    expect(address).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${address}/health`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { status: string }).status).toBe('ok');
  });
});

/** What the server answers to bytes written on a socket of its own, read until it closes. */
async function rawExchange(address: string, request: Buffer): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const { hostname, port } = new URL(address);
  const socket = connect({ host: hostname, port: Number(port) });
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  await once(socket, 'connect');
  socket.write(request);
  await once(socket, 'close');
  const text = Buffer.concat(chunks).toString('utf8');
  const [head = '', body = ''] = text.split('\r\n\r\n', 2);
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers = Object.fromEntries(lines.map((line) => {
    const colon = line.indexOf(':');
    return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
  }));
  return { status: Number(statusLine.split(' ')[1]), headers, body };
}

describe('errors before routing', () => {
  let store: Store;
  let app: FastifyInstance;
  let address: string;
  let auth: { authorization: string };
  beforeAll(async () => {
    store = await createTestStore();
    app = await buildApp({ db: store.db, storeKind: store.kind });
    auth = await createBearer(store.db);
    address = await startServer(app, { host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await app.close();
    await store.close();
  });

  /** A problem+json of the status, with the fields of a problem and nothing else: no code, no stack. */
  const expectProblem = (res: { status: number; headers: Record<string, string>; body: string }, status: number, detail: RegExp) => {
    expect(res.status, res.body).toBe(status);
    expect(res.headers['content-type']).toContain(PROBLEM_CONTENT_TYPE);
    const problem = JSON.parse(res.body) as Record<string, unknown>;
    expect(Object.keys(problem).sort()).toEqual(['detail', 'instance', 'status', 'title', 'type']);
    expect(problem).toMatchObject({ type: 'about:blank', title: STATUS_CODES[status], status });
    expect(problem.detail).toMatch(detail);
    expect(res.body).not.toMatch(/FST_|HPE_|at .*\.(js|ts):\d/);
  };
  const fetchRaw = async (path: string, headers: Record<string, string> = auth) => {
    const res = await fetch(`${address}${path}`, { headers });
    return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() };
  };
  const request = (target: Buffer | string, extraHeaders = '') =>
    Buffer.concat([Buffer.from('GET '), Buffer.from(target), Buffer.from(` HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth.authorization}\r\n${extraHeaders}\r\n`)]);

  it('answers a percent-encoding in the path that is not UTF-8 with a 400', async () => {
    expectProblem(await fetchRaw('/api/v1/mentions/%FF/corrections'), 400, /^The path is not valid: /);
  });

  it('answers a raw byte in the path that is not UTF-8 with a 400', async () => {
    const res = await rawExchange(address, request(Buffer.concat([Buffer.from('/api/v1/mentions/'), Buffer.from([0xff]), Buffer.from('/corrections')])));
    // Node's HTTP parser refuses it before the router sees the path.
    expectProblem(res, 400, /^The request is not valid HTTP\.$/);
  });

  it('answers a path parameter of 5,000 characters with a 414, its instance cut short', async () => {
    const res = await fetchRaw(`/api/v1/mentions/${'1'.repeat(5000)}/corrections`);
    expectProblem(res, 414, /^A path parameter is too long: at most 200 characters\.$/);
    expect((JSON.parse(res.body) as { instance: string }).instance.length).toBeLessThan(400);
  });

  it('answers 20 KB of headers with a 431', async () => {
    const res = await rawExchange(address, request('/api/v1/mentions', `X-Padding: ${'a'.repeat(20 * 1024)}\r\n`));
    expectProblem(res, 431, /^The request headers are too large\.$/);
  });

  it('answers bytes that are not HTTP with a 400', async () => {
    expectProblem(await rawExchange(address, Buffer.from('HELLO\r\n\r\n')), 400, /^The request is not valid HTTP\.$/);
  });

  it('answers a NUL in a query parameter with a 400 naming it', async () => {
    const res = await fetchRaw('/api/v1/mentions?brand=%00');
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toContain(PROBLEM_CONTENT_TYPE);
    expect((JSON.parse(res.body) as { detail: string }).detail).toBe('querystring.brand: contains a NUL character (at offset 0)');
  });
});
