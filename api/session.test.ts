import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../lib/password.ts';
import { basicTicketPolicy } from '../pipeline/ticket-policy.ts';
import type { Store } from '../store/connect.ts';
import { createUser, setUserDisabled } from '../store/users.ts';
import { createTestStore } from '../tests/helpers/test-store.ts';
import { buildApp } from './app.ts';
import { insertBrand, insertMention } from './test-seed.ts';

const PASSWORD = 'a long enough password';

describe('signing in', () => {
  let store: Store;
  let app: FastifyInstance;
  let clock = new Date('2026-12-03T09:00:00Z');
  let mentionId: string;

  beforeAll(async () => {
    store = await createTestStore();
    app = await buildApp({ db: store.db, storeKind: store.kind, now: () => clock, ticketPolicy: basicTicketPolicy({ defaultTeam: 'support' }) });
    const hash = await hashPassword(PASSWORD);
    for (const [email, role] of [['agent@acme.kz', 'agent'], ['viewer@acme.kz', 'viewer'], ['locked@acme.kz', 'agent'], ['gone@acme.kz', 'agent']] as const) {
      await createUser(store.db, { email, role, passwordHash: hash, createdBy: 'cli' }, clock);
    }
    const brandId = await insertBrand(store.db, 'Acme');
    mentionId = await insertMention(store.db, { brandId, externalId: 'm1', sentiment: 'negative', text: 'Acme lost my parcel' });
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  async function signIn(email: string, password = PASSWORD, ip = '10.0.0.1') {
    return app.inject({ method: 'POST', url: '/api/v1/session', payload: { email, password }, remoteAddress: ip });
  }
  function cookieOf(res: Awaited<ReturnType<typeof signIn>>): string {
    const header = String(res.headers['set-cookie']);
    return header.split(';')[0]!;
  }

  it('gives an HttpOnly SameSite cookie and a CSRF token; the session reads, and writes only with the token', async () => {
    const res = await signIn('AGENT@acme.kz');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ user: { email: 'agent@acme.kz', role: 'agent' }, csrf_token: expect.any(String) });
    expect(String(res.headers['set-cookie'])).toMatch(/^earshot_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=604800$/);
    const cookie = cookieOf(res);
    const csrf = res.json().csrf_token as string;

    const read = await app.inject({ method: 'GET', url: "/api/v1/mentions", headers: { cookie } });
    expect(read.statusCode, read.body).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/api/v1/session', headers: { cookie } })).json()).toMatchObject({ user: { email: 'agent@acme.kz' }, csrf_token: csrf });

    const url = `/api/v1/mentions/${mentionId}/sentiment`;
    const noToken = await app.inject({ method: 'POST', url, headers: { cookie }, payload: { label: 'neutral' } });
    expect(noToken.statusCode).toBe(403);
    expect(noToken.json().detail).toMatch(/CSRF token/);
    const wrongToken = await app.inject({ method: 'POST', url, headers: { cookie, 'x-csrf-token': `${csrf}x` }, payload: { label: 'neutral' } });
    expect(wrongToken.statusCode).toBe(403);
    const written = await app.inject({ method: 'POST', url, headers: { cookie, 'x-csrf-token': csrf }, payload: { label: 'neutral', by: 'someone else' } });
    expect(written.statusCode, written.body).toBe(200);
    // A person's write is recorded as that person, whatever `by` says.
    const corrections = await store.db.selectFrom('mention_corrections').select('actor').execute();
    expect(corrections).toEqual([{ actor: 'user:agent@acme.kz' }]);

    const out = await app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { cookie, 'x-csrf-token': csrf } });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(/^earshot_session=; .*Max-Age=0/);
    expect((await app.inject({ method: 'GET', url: "/api/v1/mentions", headers: { cookie } })).statusCode).toBe(401);
  });

  it('lets a viewer read and nothing else', async () => {
    const res = await signIn('viewer@acme.kz');
    const cookie = cookieOf(res);
    const csrf = res.json().csrf_token as string;
    expect((await app.inject({ method: 'GET', url: '/api/v1/mentions', headers: { cookie } })).statusCode).toBe(200);
    const write = await app.inject({ method: 'POST', url: `/api/v1/mentions/${mentionId}/sentiment`, headers: { cookie, 'x-csrf-token': csrf }, payload: { label: 'positive' } });
    expect(write.statusCode).toBe(403);
    expect(write.json().detail).toBe('A viewer cannot do this.');
  });

  it('answers a wrong password and an unknown email alike, and locks an account after five failures in a row', async () => {
    const unknown = await signIn('nobody@acme.kz', 'whatever', '10.0.0.2');
    const wrong = await signIn('locked@acme.kz', 'not the password', '10.0.0.2');
    expect([unknown.statusCode, wrong.statusCode]).toEqual([401, 401]);
    expect(unknown.json().detail).toBe(wrong.json().detail);
    for (let i = 0; i < 3; i++) expect((await signIn('locked@acme.kz', 'not the password', '10.0.0.2')).statusCode).toBe(401);
    const fifth = await signIn('locked@acme.kz', 'not the password', '10.0.0.2');
    expect(fifth.statusCode).toBe(429);
    expect(fifth.headers['retry-after']).toBe('900');
    // Locked: even the right password waits.
    expect((await signIn('locked@acme.kz', PASSWORD, '10.0.0.3')).statusCode).toBe(429);
    clock = new Date(clock.getTime() + 16 * 60_000);
    expect((await signIn('locked@acme.kz', PASSWORD, '10.0.0.3')).statusCode).toBe(200);
  });

  it('holds back an address after twenty failures, whatever the accounts', async () => {
    for (let i = 0; i < 20; i++) expect((await signIn(`guess${i}@acme.kz`, 'x', '10.0.0.9')).statusCode).toBe(401);
    const held = await signIn('agent@acme.kz', PASSWORD, '10.0.0.9');
    expect(held.statusCode).toBe(429);
    expect(Number(held.headers['retry-after'])).toBeGreaterThan(0);
    expect((await signIn('agent@acme.kz', PASSWORD, '10.0.0.10')).statusCode).toBe(200);
  });

  it('ends the sessions of a disabled user at once, and refuses their sign-in', async () => {
    const cookie = cookieOf(await signIn('gone@acme.kz'));
    expect((await app.inject({ method: 'GET', url: '/api/v1/mentions', headers: { cookie } })).statusCode).toBe(200);
    await setUserDisabled(store.db, 'gone@acme.kz', clock);
    expect((await app.inject({ method: 'GET', url: '/api/v1/mentions', headers: { cookie } })).statusCode).toBe(401);
    expect((await signIn('gone@acme.kz')).statusCode).toBe(401);
  });
});
