import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, revokeApiKey } from '../store/api-keys.ts';
import type { Store } from '../store/connect.ts';
import type { Database } from '../store/schema.ts';
import { createTestStore } from '../tests/helpers/test-store.ts';
import { buildApp } from './app.ts';
import { AUTH_FAILURES_PER_ADDRESS } from './auth.ts';
import { FailureThrottle } from './auth-throttle.ts';

const PROBLEM_KEYS = ['detail', 'instance', 'status', 'title', 'type'];

describe('auth, errors and health', () => {
  let store: Store;
  let app: FastifyInstance;
  let clock = new Date('2026-03-01T12:00:00Z');
  beforeAll(async () => {
    store = await createTestStore();
    app = await buildApp({ db: store.db, storeKind: store.kind, now: () => clock, version: '9.9.9' });
  });
  afterAll(async () => {
    await app.close();
    await store.close();
  });

  it('answers /health without a key', async () => {
    const res = await app.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok', db: store.kind, version: '9.9.9', problems: [] });
  });

  it('401 without a key, as problem+json with a Bearer challenge', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/mentions?limit=5' });
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(PROBLEM_KEYS);
    expect(body).toMatchObject({ type: 'about:blank', title: 'Unauthorized', status: 401, instance: '/api/v1/mentions' });
  });

  it('401 for unknown, malformed and revoked keys; 403 without the scope', async () => {
    const unknown = await app.inject({
      method: 'GET', url: '/api/v1/targets', headers: { authorization: `Bearer esk_${'A'.repeat(43)}` },
    });
    expect(unknown.statusCode).toBe(401);
    expect(unknown.json().detail).toMatch(/unknown or revoked/);

    const malformed = await app.inject({ method: 'GET', url: '/api/v1/targets', headers: { authorization: 'Basic abc' } });
    expect(malformed.statusCode).toBe(401);

    const writer = await createApiKey(store.db, { name: 'writer', scopes: ['write'] });
    const forbidden = await app.inject({
      method: 'GET', url: '/api/v1/targets', headers: { authorization: `Bearer ${writer.key}` },
    });
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(forbidden.json()).toMatchObject({ status: 403, title: 'Forbidden', detail: expect.stringContaining('"read"') });

    const reader = await createApiKey(store.db, { name: 'reader', scopes: ['read'] });
    const ok = await app.inject({ method: 'GET', url: '/api/v1/targets', headers: { authorization: `bearer ${reader.key}` } });
    expect(ok.statusCode).toBe(200);

    await revokeApiKey(store.db, reader.id);
    const revoked = await app.inject({
      method: 'GET', url: '/api/v1/targets', headers: { authorization: `Bearer ${reader.key}` },
    });
    expect(revoked.statusCode).toBe(401);
  });

  it('writes last_used_at at most once a minute', async () => {
    const key = await createApiKey(store.db, { name: 'clocked', scopes: ['read'] });
    const headers = { authorization: `Bearer ${key.key}` };
    const lastUsed = async () =>
      (await store.db.selectFrom('api_keys').select('last_used_at').where('id', '=', key.id).executeTakeFirstOrThrow())
        .last_used_at?.toISOString();

    clock = new Date('2026-03-01T12:00:00Z');
    await app.inject({ method: 'GET', url: '/api/v1/targets', headers });
    expect(await lastUsed()).toBe('2026-03-01T12:00:00.000Z');
    clock = new Date('2026-03-01T12:00:59Z');
    await app.inject({ method: 'GET', url: '/api/v1/targets', headers });
    expect(await lastUsed()).toBe('2026-03-01T12:00:00.000Z');
    clock = new Date('2026-03-01T12:01:00Z');
    await app.inject({ method: 'GET', url: '/api/v1/targets', headers });
    expect(await lastUsed()).toBe('2026-03-01T12:01:00.000Z');
  });

  it('400 names the offending field in detail and errors[]', async () => {
    const key = await createApiKey(store.db, { name: 'v', scopes: ['read'] });
    const res = await app.inject({
      method: 'GET', url: '/api/v1/mentions?limit=500&sentiment=angry', headers: { authorization: `Bearer ${key.key}` },
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = res.json();
    expect(body).toMatchObject({ type: 'about:blank', title: 'Bad Request', status: 400, instance: '/api/v1/mentions' });
    expect(body.detail).toContain('querystring.limit');
    const paths = body.errors.map((e: { path: string }) => e.path).sort();
    expect(paths).toEqual(['querystring.limit', 'querystring.sentiment']);
    for (const e of body.errors) expect(typeof e.message).toBe('string');
  });

  it('404 problem for unknown routes', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/nope?x=1' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status: 404, title: 'Not Found', instance: '/api/v1/nope' });
  });

  it('500 problem without internals when a query fails', async () => {
    const broken = await createTestStore();
    const brokenApp = await buildApp({ db: broken.db, storeKind: broken.kind });
    try {
      // The key lives in `broken`, whose outbox table is gone: the query fails after auth passes.
      const brokenKey = await createApiKey(broken.db, { name: 'boom', scopes: ['read'] });
      await sql`drop table alerts; drop table outbox cascade`.execute(broken.db);
      const res = await brokenApp.inject({
        method: 'GET', url: '/api/v1/deliveries', headers: { authorization: `Bearer ${brokenKey.key}` },
      });
      expect(res.statusCode).toBe(500);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      const body = res.json();
      expect(Object.keys(body).sort()).toEqual(PROBLEM_KEYS);
      expect(body.status).toBe(500);
      expect(res.body).not.toMatch(/outbox|relation|select/i);
    } finally {
      await brokenApp.close();
      await broken.close();
    }
  });

  it('503 problem from /health when the database does not answer', async () => {
    // Nothing listens on port 1: connecting fails at once, with no network involved.
    const pool = new pg.Pool({ host: '127.0.0.1', port: 1, connectionTimeoutMillis: 1_000 });
    const unreachable = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    const goneApp = await buildApp({ db: unreachable, storeKind: 'postgres' });
    try {
      const res = await goneApp.inject({ method: 'GET', url: '/health' });
      expect(res.statusCode).toBe(503);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ status: 503, title: 'Service Unavailable' });
    } finally {
      await goneApp.close();
      await unreachable.destroy();
    }
  });

  it('keeps the authorization header out of the logs', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const key = await createApiKey(store.db, { name: 'logged', scopes: ['read'] });
    const logged = await buildApp({ db: store.db, storeKind: store.kind, logger: { level: 'info', stream } });
    try {
      await logged.inject({ method: 'GET', url: '/api/v1/targets', headers: { authorization: `Bearer ${key.key}` } });
      logged.log.info({ req: { headers: { authorization: `Bearer ${key.key}` } } }, 'explicit');
      logged.log.info({ headers: { authorization: `Bearer ${key.key}` } }, 'explicit');
    } finally {
      await logged.close();
    }
    expect(lines.length).toBeGreaterThan(2);
    expect(lines.join('')).not.toContain(key.key);
  });

  it('keeps credentials in the query string, credential headers and error texts out of the logs', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const key = await createApiKey(store.db, { name: 'queried', scopes: ['read'] });
    const logged = await buildApp({ db: store.db, storeKind: store.kind, logger: { level: 'info', stream } });
    try {
      // Refused: a key is taken only from the Authorization header; the URL still reaches the request log.
      const refused = await logged.inject({ method: 'GET', url: '/api/v1/mentions?api_key=SECRET&limit=5' });
      expect(refused.statusCode).toBe(401);
      await logged.inject({
        method: 'GET', url: `/api/v1/targets?access%5Ftoken=SECRET&k=${key.key}&client_secret=SECRET`,
        headers: { authorization: `Bearer ${key.key}`, 'x-api-key': 'SECRET', cookie: 'earshot_session=SECRET' },
      });
      await logged.inject({ method: 'GET', url: `/nowhere?password=SECRET&${key.key}` });
      logged.log.info({ headers: { 'x-api-key': 'SECRET', cookie: 'SECRET', 'proxy-authorization': 'SECRET' } }, 'explicit');
      logged.log.error({ err: new Error('GET https://api.example/x?token=SECRET failed') }, 'calling out failed');
      logged.log.warn('fetching /feed?signature=SECRET&page=2');
      logged.log.error(new Error('POST /hook?secret=SECRET refused'));
    } finally {
      await logged.close();
    }
    const log = lines.join('');
    expect(log).toContain('"url":"/api/v1/mentions?api_key=[redacted]&limit=5"');
    expect(log).toContain('page=2');
    expect(lines.length).toBeGreaterThan(6);
    expect(log).not.toContain('SECRET');
    expect(log).not.toContain(key.key);
  });
});

describe('throttling failed authentication', () => {
  let store: Store;
  let app: FastifyInstance;
  let clock = new Date('2026-03-01T12:00:00Z');
  let valid: string;
  beforeAll(async () => {
    store = await createTestStore();
    app = await buildApp({ db: store.db, storeKind: store.kind, now: () => clock });
    valid = (await createApiKey(store.db, { name: 'good', scopes: ['read'] })).key;
  });
  afterAll(async () => {
    await app.close();
    await store.close();
  });

  const wrongKey = (i: number) => `Bearer esk_${String(i).padStart(43, 'W')}`;
  function get(authorization: string | undefined, ip: string, cookie?: string) {
    const headers = { ...(authorization ? { authorization } : {}), ...(cookie ? { cookie } : {}) };
    return app.inject({ method: 'GET', url: '/api/v1/targets', headers, remoteAddress: ip });
  }

  it('answers 429 with Retry-After to an address past its failures, still lets its valid key in, and forgives after the window', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) statuses.push((await get(wrongKey(i), '10.1.0.1')).statusCode);
    expect(statuses).toEqual([...Array(AUTH_FAILURES_PER_ADDRESS).fill(401), ...Array(30 - AUTH_FAILURES_PER_ADDRESS).fill(429)]);

    const held = await get(wrongKey(99), '10.1.0.1');
    expect(held.statusCode).toBe(429);
    expect(held.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(held.headers['retry-after']).toBe('60');
    expect(held.json()).toMatchObject({ status: 429, title: 'Too Many Requests', instance: '/api/v1/targets' });

    // A valid key from the same address is not held back; another address is not either.
    expect((await get(`Bearer ${valid}`, '10.1.0.1')).statusCode).toBe(200);
    expect((await get(wrongKey(1), '10.1.0.2')).statusCode).toBe(401);
    // No credentials at all guess nothing: still 401.
    expect((await get(undefined, '10.1.0.1')).statusCode).toBe(401);

    clock = new Date(clock.getTime() + 45_000);
    expect((await get(wrongKey(2), '10.1.0.1')).headers['retry-after']).toBe('15');
    clock = new Date(clock.getTime() + 15_000);
    const again = await get(wrongKey(3), '10.1.0.1');
    expect(again.statusCode).toBe(401);
    expect(again.headers['www-authenticate']).toMatch(/^Bearer/);
  });

  it('counts wrong session cookies as it counts wrong keys', async () => {
    const cookie = (i: number) => `earshot_session=${String(i).padStart(43, 'C')}`;
    for (let i = 0; i < AUTH_FAILURES_PER_ADDRESS; i++) expect((await get(undefined, '10.1.0.3', cookie(i))).statusCode).toBe(401);
    expect((await get(undefined, '10.1.0.3', cookie(99))).statusCode).toBe(429);
    expect((await get(`Bearer ${valid}`, '10.1.0.3')).statusCode).toBe(200);
  });

  it('keeps a bounded number of addresses, dropping ended windows first and then the oldest', () => {
    const throttle = new FailureThrottle({ limit: 2, windowMs: 60_000, maxKeys: 100 });
    throttle.fail('held', 0);
    throttle.fail('held', 0);
    expect(throttle.waitFor('held', 1_000)).toBe(59_000);
    for (let i = 0; i < 1_000; i++) throttle.fail(`10.2.${Math.floor(i / 256)}.${i % 256}`, 2_000);
    expect(throttle.size).toBe(100);
    // The oldest went to make room: an attacker with many addresses wipes their own counts, not the memory.
    expect(throttle.waitFor('held', 2_000)).toBe(0);
    throttle.fail('late', 70_000);
    // Every window of 2 000 ms has ended by 62 000: all dropped at once when a new one starts.
    expect(throttle.size).toBe(1);
  });
});
