import { parseArgs } from 'node:util';
import { createApiKey } from '../../store/api-keys.ts';
import type { CommandContext } from '../context.ts';
import { UsageError } from '../usage-error.ts';

/** `earshot apikey create --name NAME [--scopes read,write]`: prints the key, once. */
export async function commandApiKey(args: string[], ctx: CommandContext): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'create') throw new UsageError('apikey needs "create --name NAME [--scopes read,write]"');
  const { values } = parseArgs({ args: rest, options: { name: { type: 'string' }, scopes: { type: 'string', default: 'read' } } });
  if (!values.name) throw new UsageError('--name is required');
  const scopes = values.scopes.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = scopes.filter((s) => s !== 'read' && s !== 'write');
  if (unknown.length > 0 || scopes.length === 0) throw new UsageError(`--scopes: use read, write or read,write (got "${values.scopes}")`);
  const store = await ctx.runtime.store();
  const key = await createApiKey(store.db, { name: values.name, scopes: scopes as ('read' | 'write')[] });
  ctx.io.out(`${key.key}\n`);
  ctx.io.err(`API key "${key.name}" (${key.scopes.join(',')}) created; it is shown only this once.\n`);
  return 0;
}
