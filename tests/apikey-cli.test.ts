import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandApiKey } from '../bin/commands/apikey.ts';
import { UsageError } from '../bin/usage-error.ts';
import { findApiKey } from '../store/api-keys.ts';
import type { Store } from '../store/connect.ts';
import { captureOutput } from './helpers/capture-output.ts';
import { catchAsync } from './helpers/catch-error.ts';
import { testCommandContext } from './helpers/command-context.ts';
import { createTestStore } from './helpers/test-store.ts';

// `earshot apikey …` in-process on a real store, output captured. (Revoking beside a running earshot: runtime.test.ts.)
const output = captureOutput();

describe('earshot apikey', () => {
  let store: Store;
  beforeAll(async () => {
    store = await createTestStore();
  });
  afterAll(async () => {
    await store?.close();
  });
  /** Runs the command with what it writes, and only that, in `output`. */
  const run = (...args: string[]) => {
    output.stdout = '';
    output.stderr = '';
    return commandApiKey(args, testCommandContext({ store }));
  };
  const create = async (name: string, scopes = 'read') => {
    expect(await run('create', '--name', name, '--scopes', scopes)).toBe(0);
    return output.stdout.trim();
  };
  const listed = async () => {
    expect(await run('list', '--json')).toBe(0);
    return output.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: number; name: string; prefix: string; scopes: string[]; revoked_at: string | null; last_used_at: string | null });
  };

  it('lists keys without the keys themselves, and revokes one by ID or by name', async () => {
    expect(await run('list')).toBe(0);
    expect(output.stdout).toContain('no API keys yet');
    const usedesk = await create('usedesk', 'read,write');
    expect(output.stderr).toMatch(/API key "usedesk" \(read,write, ID \d+\) created; it is shown only this once/);
    const zendesk = await create('zendesk');
    const keys = await listed();
    expect(keys.map((k) => [k.name, k.scopes, k.revoked_at, k.last_used_at])).toEqual([['usedesk', ['read', 'write'], null, null], ['zendesk', ['read'], null, null]]);
    expect(usedesk.startsWith(`esk_${keys[0]!.prefix}`)).toBe(true);
    expect(output.stdout).not.toContain(usedesk);
    expect(await run('list')).toBe(0);
    expect(output.stdout).toMatch(new RegExp(`^\\s+${keys[0]!.id}  usedesk\\s+esk_${keys[0]!.prefix}…\\s+read,write\\s+active\\s+never used$`, 'm'));

    expect(await run('revoke', 'usedesk')).toBe(0);
    expect(output.stderr).toMatch(/^API key \d+ "usedesk" \(esk_.{8}…\) revoked: refused from the next request on$/m);
    expect(await findApiKey(store.db, usedesk)).toBeNull();
    expect(await findApiKey(store.db, zendesk)).not.toBeNull();
    expect(await run('revoke', String(keys[1]!.id))).toBe(0);
    expect(await findApiKey(store.db, zendesk)).toBeNull();
    expect((await listed()).every((k) => k.revoked_at !== null)).toBe(true);
    expect(await run('list')).toBe(0);
    expect(output.stdout).toMatch(/usedesk.*revoked \d{4}-/);

    // Again: said, and nothing changes.
    expect(await run('revoke', 'usedesk')).toBe(0);
    expect(output.stderr).toMatch(/was already revoked \(\d{4}-/);
  });

  it('revokes the one active key of a name used again, and refuses a name two active keys share', async () => {
    const old = await create('crm');
    expect(await run('revoke', 'crm')).toBe(0);
    const current = await create('crm');
    expect(await run('revoke', 'crm')).toBe(0);
    expect(await findApiKey(store.db, current)).toBeNull();
    expect(await findApiKey(store.db, old)).toBeNull();
    await create('twin');
    await create('twin');
    expect(await run('revoke', 'twin')).toBe(1);
    expect(output.stderr).toMatch(/2 active API keys are named "twin" \(IDs \d+, \d+\): revoke by ID/);
    expect(await run('revoke', 'nobody')).toBe(1);
    expect(output.stderr).toContain('no API key with the ID or name "nobody" (see earshot apikey list)');
  });

  it('explains bad arguments', async () => {
    const usage = async (...args: string[]) => {
      const err = await catchAsync(run(...args));
      expect(err).toBeInstanceOf(UsageError);
      return (err as Error).message;
    };
    expect(await usage('delete', '1')).toMatch(/apikey needs "create --name NAME \[--scopes read,write\]", "list \[--json\]" or "revoke ID\|NAME"/);
    expect(await usage('revoke')).toMatch(/takes one ID or name/);
    expect(await usage('create', '--name', '17')).toMatch(/--name: a name, not a number/);
    expect(await usage('create', '--name', 'x', '--scopes', 'admin')).toMatch(/--scopes: use read, write or read,write/);
  });
});
