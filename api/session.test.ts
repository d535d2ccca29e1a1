import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../lib/password.ts';
import { basicTicketPolicy } from '../pipeline/ticket-policy.ts';
import type { Store } from '../store/connect.ts';
import { createUser, setUserDisabled } from '../store/users.ts';
import { createTestStore } from '../tests/helpers/test-store.ts';
import { buildApp } from './app.ts';
import { createBearer, insertBrand, insertMention } from './test-seed.ts';

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

  it('holds back any email after five failures, known or not, from any address, and forgets them on a sign-in', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await signIn('nobody-else@acme.kz', 'whatever', `10.0.1.${i}`)).statusCode);
    expect(statuses).toEqual([401, 401, 401, 401, 429, 429]);
    const held = await signIn('NOBODY-ELSE@acme.kz', 'whatever', '10.0.1.9');
    expect(held.statusCode).toBe(429);
    expect(held.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(held.headers['retry-after']).toBe('900');
    // Answered as a locked account is, so a 429 does not tell that the email exists.
    expect(held.json().detail).toMatch(/this account: it is locked for 15 minutes/);

    // Four failures and a sign-in: the count starts again.
    for (let i = 0; i < 4; i++) expect((await signIn('viewer@acme.kz', 'not the password', `10.0.2.${i}`)).statusCode).toBe(401);
    expect((await signIn('viewer@acme.kz', PASSWORD, '10.0.2.9')).statusCode).toBe(200);
    expect((await signIn('viewer@acme.kz', 'not the password', '10.0.2.10')).statusCode).toBe(401);

    clock = new Date(clock.getTime() + 15 * 60_000);
    expect((await signIn('nobody-else@acme.kz', 'whatever', '10.0.1.9')).statusCode).toBe(401);
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

describe('managing people', () => {
  let store: Store;
  let app: FastifyInstance;
  const now = new Date('2026-12-03T09:00:00Z');

  beforeAll(async () => {
    store = await createTestStore();
    app = await buildApp({ db: store.db, storeKind: store.kind, now: () => now });
    const hash = await hashPassword(PASSWORD);
    await createUser(store.db, { email: 'admin@acme.kz', role: 'admin', passwordHash: hash, createdBy: 'cli' }, now);
    await createUser(store.db, { email: 'agent@acme.kz', role: 'agent', passwordHash: hash, createdBy: 'cli' }, now);
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  async function as(email: string) {
    const res = await app.inject({ method: 'POST', url: '/api/v1/session', payload: { email, password: PASSWORD } });
    return { cookie: String(res.headers['set-cookie']).split(';')[0]!, 'x-csrf-token': res.json().csrf_token as string };
  }

  it('lets an admin invite a person with a one-time password, who can then sign in', async () => {
    const admin = await as('admin@acme.kz');
    const invited = await app.inject({ method: 'POST', url: '/api/v1/users', headers: admin, payload: { email: 'new@acme.kz', role: 'viewer', locale: 'ru' } });
    expect(invited.statusCode, invited.body).toBe(201);
    const { user, password } = invited.json() as { user: Record<string, unknown>; password: string };
    expect(user).toMatchObject({ email: 'new@acme.kz', role: 'viewer', locale: 'ru', created_by: 'user:admin@acme.kz', disabled_at: null });
    const signIn = await app.inject({ method: 'POST', url: '/api/v1/session', payload: { email: 'new@acme.kz', password } });
    expect(signIn.statusCode).toBe(200);
    const again = await app.inject({ method: 'POST', url: '/api/v1/users', headers: admin, payload: { email: 'NEW@acme.kz', role: 'agent' } });
    expect(again.statusCode).toBe(409);
    const list = await app.inject({ method: 'GET', url: '/api/v1/users', headers: admin });
    expect((list.json().data as { email: string; last_login_at: string | null }[]).map((u) => [u.email, u.last_login_at !== null])).toEqual([
      ['admin@acme.kz', true], ['agent@acme.kz', false], ['new@acme.kz', true],
    ]);
    expect(list.body).not.toContain('scrypt');
  });

  it('lets an admin disable a person (signed out at once) and change roles, but not lock themselves out', async () => {
    const admin = await as('admin@acme.kz');
    const agent = await as('agent@acme.kz');
    const users = (await app.inject({ method: 'GET', url: '/api/v1/users', headers: admin })).json().data as { id: number; email: string }[];
    const id = (email: string) => users.find((u) => u.email === email)!.id;

    const disabled = await app.inject({ method: 'PATCH', url: `/api/v1/users/${id('agent@acme.kz')}`, headers: admin, payload: { disabled: true } });
    expect(disabled.statusCode, disabled.body).toBe(200);
    expect(disabled.json().disabled_at).toBe(now.toISOString());
    expect((await app.inject({ method: 'GET', url: '/api/v1/mentions', headers: { cookie: agent.cookie } })).statusCode).toBe(401);
    const back = await app.inject({ method: 'PATCH', url: `/api/v1/users/${id('agent@acme.kz')}`, headers: admin, payload: { disabled: false, role: 'viewer' } });
    expect(back.json()).toMatchObject({ disabled_at: null, role: 'viewer' });

    const self = await app.inject({ method: 'PATCH', url: `/api/v1/users/${id('admin@acme.kz')}`, headers: admin, payload: { role: 'agent' } });
    expect(self.statusCode).toBe(409);
    expect((await app.inject({ method: 'PATCH', url: '/api/v1/users/999', headers: admin, payload: { disabled: true } })).statusCode).toBe(404);
    expect((await app.inject({ method: 'PATCH', url: `/api/v1/users/${id('agent@acme.kz')}`, headers: admin, payload: {} })).statusCode).toBe(400);
  });

  it('refuses everyone but a signed-in admin: agents, viewers and API keys', async () => {
    const viewer = await as('agent@acme.kz'); // a viewer since the test before
    expect((await app.inject({ method: 'GET', url: '/api/v1/users', headers: viewer })).statusCode).toBe(403);
    const key = await createBearer(store.db, ['read', 'write']);
    const byKey = await app.inject({ method: 'GET', url: '/api/v1/users', headers: key });
    expect(byKey.statusCode).toBe(403);
    expect(byKey.json().detail).toBe('Only a signed-in admin can do this, not an API key.');
    expect((await app.inject({ method: 'GET', url: '/api/v1/api-keys', headers: key })).statusCode).toBe(403);
    expect((await app.inject({ method: 'GET', url: '/api/v1/api-keys', headers: viewer })).statusCode).toBe(403);
  });

  it('lets an admin create, list and revoke API keys; a revoked key is refused at its next request', async () => {
    const admin = await as('admin@acme.kz');
    const created = await app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: admin, payload: { name: 'usedesk', scopes: ['read', 'write'] } });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.headers['cache-control']).toBe('no-store');
    const { api_key: document, key } = created.json() as { api_key: { id: number; prefix: string }; key: string };
    expect(document).toMatchObject({ name: 'usedesk', scopes: ['read', 'write'], last_used_at: null, revoked_at: null });
    expect(key.startsWith(`esk_${document.prefix}`)).toBe(true);
    const bearer = { authorization: `Bearer ${key}` };
    expect((await app.inject({ method: 'GET', url: '/api/v1/targets', headers: bearer })).statusCode).toBe(200);

    const listed = await app.inject({ method: 'GET', url: '/api/v1/api-keys', headers: admin });
    const mine = (listed.json().data as { id: number; last_used_at: string | null }[]).find((k) => k.id === document.id);
    expect(mine?.last_used_at).toBe(now.toISOString()); // the use just made
    expect(listed.body).not.toContain(key);

    const revoked = await app.inject({ method: 'DELETE', url: `/api/v1/api-keys/${document.id}`, headers: admin });
    expect(revoked.statusCode, revoked.body).toBe(200);
    expect(revoked.json()).toMatchObject({ id: document.id, revoked_at: now.toISOString() });
    const refused = await app.inject({ method: 'GET', url: '/api/v1/targets', headers: bearer });
    expect(refused.statusCode).toBe(401);
    expect(refused.json().detail).toBe('The API key is unknown or revoked.');
    // Again: the same answer; an unknown ID: 404; a name that is a number, or no scopes: 400.
    expect((await app.inject({ method: 'DELETE', url: `/api/v1/api-keys/${document.id}`, headers: admin })).json()).toMatchObject({ revoked_at: now.toISOString() });
    expect((await app.inject({ method: 'DELETE', url: '/api/v1/api-keys/9999', headers: admin })).statusCode).toBe(404);
    expect((await app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: admin, payload: { name: '42' } })).statusCode).toBe(400);
    expect((await app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: admin, payload: { name: 'x', scopes: [] } })).statusCode).toBe(400);
  });
});
