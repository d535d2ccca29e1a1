import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandUser } from '../bin/commands/user.ts';
import { UsageError } from '../bin/usage-error.ts';
import { verifyPassword } from '../lib/password.ts';
import type { Store } from '../store/connect.ts';
import { captureOutput } from './helpers/capture-output.ts';
import { catchAsync } from './helpers/catch-error.ts';
import { testCommandContext } from './helpers/command-context.ts';
import { createTestStore } from './helpers/test-store.ts';

// `earshot user …` in-process on a real store, output captured.
const output = captureOutput();

describe('earshot user', () => {
  let store: Store;
  beforeAll(async () => {
    store = await createTestStore();
  });
  afterAll(async () => {
    await store?.close();
  });
  const run = (...args: string[]) => commandUser(args, testCommandContext({ store }));
  const hashOf = async (email: string) => (await store.db.selectFrom('users').select('password_hash').where('email', '=', email).executeTakeFirstOrThrow()).password_hash;

  it('creates a user with a generated password printed once on stdout, stored only as a scrypt hash', async () => {
    expect(await run('create', '--email', 'aigerim@acme.kz', '--role', 'admin')).toBe(0);
    const password = output.stdout.trim();
    expect(password).toMatch(/^[A-Za-z0-9]{20}$/);
    expect(output.stderr).toContain('user aigerim@acme.kz (admin) created; the password above is shown only this once');
    const hash = await hashOf('aigerim@acme.kz');
    expect(hash).toMatch(/^scrypt\$/);
    expect(hash).not.toContain(password);
    expect(await verifyPassword(password, hash)).toBe(true);
  });

  it('takes a given password, prints nothing on stdout, and refuses the same email in another case', async () => {
    expect(await run('create', '--email', 'dana@acme.kz', '--role', 'agent', '--password', 'long enough secret')).toBe(0);
    expect(output.stdout).toBe('');
    expect(await verifyPassword('long enough secret', await hashOf('dana@acme.kz'))).toBe(true);
    expect(await run('create', '--email', 'DANA@acme.kz', '--role', 'viewer', '--password', 'another long one')).toBe(1);
    expect(output.stderr).toContain('a user with the email DANA@acme.kz exists already');
  });

  it('lists, disables and enables users by email, whatever its case', async () => {
    expect(await run('disable', 'Dana@Acme.kz')).toBe(0);
    expect(await run('list', '--json')).toBe(0);
    const users = output.stdout.trim().split('\n').map((l) => JSON.parse(l) as { email: string; role: string; disabled_at: string | null; created_by: string });
    expect(users.map((u) => [u.email, u.role, u.disabled_at !== null, u.created_by])).toEqual([
      ['aigerim@acme.kz', 'admin', false, 'cli'], ['dana@acme.kz', 'agent', true, 'cli'],
    ]);
    expect(JSON.stringify(users)).not.toContain('scrypt');
    expect(await run('enable', 'dana@acme.kz')).toBe(0);
    expect(await run('list')).toBe(0);
    expect(output.stdout).toMatch(/dana@acme\.kz\s+agent\s+active\s+never signed in/);
    expect(await run('disable', 'nobody@acme.kz')).toBe(1);
    expect(output.stderr).toContain('no user nobody@acme.kz');
  });

  it('explains bad arguments', async () => {
    const usage = async (...args: string[]) => {
      const err = await catchAsync(run(...args));
      expect(err).toBeInstanceOf(UsageError);
      return (err as Error).message;
    };
    expect(await usage('create', '--role', 'admin')).toMatch(/--email is required/);
    expect(await usage('create', '--email', 'not-an-email', '--role', 'admin')).toMatch(/--email: not an email address/);
    expect(await usage('create', '--email', 'a@b.kz', '--role', 'owner')).toMatch(/--role: one of admin, agent, viewer \(got "owner"\)/);
    expect(await usage('create', '--email', 'a@b.kz', '--role', 'agent', '--password', 'short')).toMatch(/at least 10 characters/);
    expect(await usage('rename')).toMatch(/user needs "create/);
  });
});
