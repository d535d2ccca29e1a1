import { parseArgs } from 'node:util';
import { z } from 'zod';
import { generatePassword, hashPassword } from '../../lib/password.ts';
import { USER_ROLES, type UserRole } from '../../store/schema.ts';
import { createUser, listUsers, setUserDisabled, UserExistsError, type UserSummary } from '../../store/users.ts';
import type { CommandContext } from '../context.ts';
import { UsageError } from '../usage-error.ts';

const USAGE = 'user needs "create --email E --role admin|agent|viewer [--password P]", "list [--json]", "disable EMAIL" or "enable EMAIL"';
const MIN_PASSWORD = 10;
const emailSchema = z.email();

/**
 * `earshot user create|list|disable|enable`: the people who sign in to the inbox. `create` without
 * `--password` generates one and prints it, once, on stdout (so it can be piped); everything else goes to stderr.
 */
export async function commandUser(args: string[], ctx: CommandContext): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'create') return create(rest, ctx);
  if (sub === 'list') return list(rest, ctx);
  if (sub === 'disable' || sub === 'enable') return toggle(sub, rest, ctx);
  throw new UsageError(USAGE);
}

async function create(args: string[], ctx: CommandContext): Promise<number> {
  const { values } = parseArgs({ args, options: { email: { type: 'string' }, role: { type: 'string' }, password: { type: 'string' } } });
  if (!values.email) throw new UsageError('user create: --email is required');
  if (!emailSchema.safeParse(values.email).success) throw new UsageError(`user create: --email: not an email address ("${values.email}")`);
  if (!values.role || !USER_ROLES.includes(values.role as UserRole)) {
    throw new UsageError(`user create: --role: one of ${USER_ROLES.join(', ')}${values.role ? ` (got "${values.role}")` : ''}`);
  }
  if (values.password !== undefined && Array.from(values.password).length < MIN_PASSWORD) {
    throw new UsageError(`user create: --password: at least ${MIN_PASSWORD} characters`);
  }
  const password = values.password ?? generatePassword();
  const store = await ctx.runtime.store();
  try {
    const user = await createUser(store.db, { email: values.email, role: values.role as UserRole, passwordHash: await hashPassword(password), createdBy: 'cli' }, new Date());
    if (values.password === undefined) ctx.io.out(`${password}\n`);
    ctx.io.err(`user ${user.email} (${user.role}) created${values.password === undefined ? '; the password above is shown only this once' : ''}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof UserExistsError)) throw err;
    ctx.io.err(`earshot: ${err.message}\n`);
    return 1;
  }
}

function line(u: UserSummary): string {
  const state = u.disabledAt ? 'disabled' : 'active';
  return `${u.email.padEnd(32)} ${u.role.padEnd(7)} ${state.padEnd(9)} ${u.lastLoginAt ? u.lastLoginAt.toISOString() : 'never signed in'}`;
}

async function list(args: string[], ctx: CommandContext): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean', default: false } } });
  const store = await ctx.runtime.store();
  const users = await listUsers(store.db);
  if (values.json) {
    for (const u of users) {
      ctx.io.out(`${JSON.stringify({
        id: u.id, email: u.email, role: u.role, locale: u.locale, created_at: u.createdAt.toISOString(), created_by: u.createdBy,
        disabled_at: u.disabledAt?.toISOString() ?? null, last_login_at: u.lastLoginAt?.toISOString() ?? null,
      })}\n`);
    }
  } else {
    ctx.io.out(users.length === 0 ? 'no users yet: earshot user create --email E --role admin\n' : `${users.map(line).join('\n')}\n`);
  }
  return 0;
}

async function toggle(sub: 'disable' | 'enable', args: string[], ctx: CommandContext): Promise<number> {
  const [email, ...extra] = args;
  if (!email || extra.length > 0) throw new UsageError(`user ${sub} takes one email`);
  const store = await ctx.runtime.store();
  const user = await setUserDisabled(store.db, email, sub === 'disable' ? new Date() : null);
  if (!user) {
    ctx.io.err(`earshot: no user ${email}\n`);
    return 1;
  }
  ctx.io.err(`user ${user.email} ${sub}d\n`);
  return 0;
}
