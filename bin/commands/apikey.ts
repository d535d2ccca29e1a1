import { parseArgs } from 'node:util';
import { formatApiKey } from '../../documents/api-key.ts';
import { createApiKey, listApiKeys, revokeApiKey, type ApiKeySummary } from '../../store/api-keys.ts';
import type { CommandContext } from '../context.ts';
import { UsageError } from '../usage-error.ts';

const USAGE = 'apikey needs "create --name NAME [--scopes read,write]", "list [--json]" or "revoke ID|NAME"';

/**
 * `earshot apikey create --name NAME [--scopes read,write]`: prints the key, once.
 * `earshot apikey list [--json]`: every key with its prefix, scopes, last use and state (never the key).
 * `earshot apikey revoke ID|NAME`: refused from the next request on, in every process on the store.
 */
export async function commandApiKey(args: string[], ctx: CommandContext): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'create') return create(rest, ctx);
  if (sub === 'list') return list(rest, ctx);
  if (sub === 'revoke') return revoke(rest, ctx);
  throw new UsageError(USAGE);
}

async function create(args: string[], ctx: CommandContext): Promise<number> {
  const { values } = parseArgs({ args, options: { name: { type: 'string' }, scopes: { type: 'string', default: 'read' } } });
  if (!values.name) throw new UsageError('--name is required');
  if (/^\d+$/.test(values.name)) throw new UsageError(`--name: a name, not a number (an ID is what "apikey revoke ${values.name}" takes)`);
  const scopes = values.scopes.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = scopes.filter((s) => s !== 'read' && s !== 'write');
  if (unknown.length > 0 || scopes.length === 0) throw new UsageError(`--scopes: use read, write or read,write (got "${values.scopes}")`);
  const store = await ctx.runtime.store();
  const key = await createApiKey(store.db, { name: values.name, scopes: scopes as ('read' | 'write')[] });
  ctx.io.out(`${key.key}\n`);
  ctx.io.err(`API key "${key.name}" (${key.scopes.join(',')}, ID ${key.id}) created; it is shown only this once.\n`);
  return 0;
}

function line(k: ApiKeySummary): string {
  const state = k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : 'active';
  const used = k.lastUsedAt ? `last used ${k.lastUsedAt.toISOString()}` : 'never used';
  return `${String(k.id).padStart(4)}  ${k.name.padEnd(24)} ${`esk_${k.prefix}…`.padEnd(14)} ${k.scopes.join(',').padEnd(10)} ${state.padEnd(32)} ${used}`;
}

async function list(args: string[], ctx: CommandContext): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean', default: false } } });
  const store = await ctx.runtime.store();
  const keys = await listApiKeys(store.db);
  if (values.json) {
    for (const k of keys) ctx.io.out(`${JSON.stringify(formatApiKey(k))}\n`);
  } else {
    ctx.io.out(keys.length === 0 ? 'no API keys yet: earshot apikey create --name NAME\n' : `${keys.map(line).join('\n')}\n`);
  }
  return 0;
}

async function revoke(args: string[], ctx: CommandContext): Promise<number> {
  const [which, ...extra] = args;
  if (!which || extra.length > 0) throw new UsageError('apikey revoke takes one ID or name (see earshot apikey list)');
  const store = await ctx.runtime.store();
  const keys = await listApiKeys(store.db);
  // An ID, or the name of the one active key with it (a name may have been used again after a revocation).
  const byId = /^\d+$/.test(which) ? keys.filter((k) => k.id === Number(which)) : [];
  const byName = keys.filter((k) => k.name === which);
  const activeByName = byName.filter((k) => k.revokedAt === null);
  const candidates = byId.length > 0 ? byId : activeByName.length > 0 ? activeByName : byName;
  if (candidates.length === 0) {
    ctx.io.err(`earshot: no API key with the ID or name "${which}" (see earshot apikey list)\n`);
    return 1;
  }
  if (candidates.length > 1) {
    ctx.io.err(`earshot: ${candidates.length} active API keys are named "${which}" (IDs ${candidates.map((k) => k.id).join(', ')}): revoke by ID\n`);
    return 1;
  }
  const key = candidates[0]!;
  if (!(await revokeApiKey(store.db, key.id, ctx.now()))) {
    ctx.io.err(`API key ${key.id} "${key.name}" was already revoked${key.revokedAt ? ` (${key.revokedAt.toISOString()})` : ''}\n`);
    return 0;
  }
  ctx.io.err(`API key ${key.id} "${key.name}" (esk_${key.prefix}…) revoked: refused from the next request on\n`);
  return 0;
}
