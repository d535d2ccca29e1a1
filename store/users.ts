import { sql } from 'kysely';
import type { Db } from './connect.ts';
import type { UserRole } from './schema.ts';

export interface UserSummary {
  id: number;
  email: string;
  role: UserRole;
  locale: 'ru' | 'en' | null;
  createdAt: Date;
  createdBy: string;
  disabledAt: Date | null;
  lastLoginAt: Date | null;
}

/** The email is taken, whatever its case. */
export class UserExistsError extends Error {}

const COLUMNS = ['id', 'email', 'role', 'locale', 'created_at', 'created_by', 'disabled_at', 'last_login_at'] as const;

function summaryOf(r: { id: number; email: string; role: UserRole; locale: 'ru' | 'en' | null; created_at: Date; created_by: string; disabled_at: Date | null; last_login_at: Date | null }): UserSummary {
  return {
    id: r.id, email: r.email, role: r.role, locale: r.locale, createdAt: r.created_at, createdBy: r.created_by,
    disabledAt: r.disabled_at, lastLoginAt: r.last_login_at,
  };
}

export async function createUser(
  db: Db,
  user: { email: string; role: UserRole; passwordHash: string; createdBy: string; locale?: 'ru' | 'en' | null },
  now: Date,
): Promise<UserSummary> {
  const row = await db
    .insertInto('users')
    .values({ email: user.email, role: user.role, password_hash: user.passwordHash, locale: user.locale ?? null, created_at: now, created_by: user.createdBy })
    .onConflict((oc) => oc.expression(sql`lower(email)`).doNothing())
    .returning(COLUMNS)
    .executeTakeFirst();
  if (!row) throw new UserExistsError(`a user with the email ${user.email} exists already`);
  return summaryOf(row);
}

export async function listUsers(db: Db): Promise<UserSummary[]> {
  return (await db.selectFrom('users').select(COLUMNS).orderBy('id').execute()).map(summaryOf);
}

/** Disables (or enables again) the user with this email; null when there is none. */
export async function setUserDisabled(db: Db, email: string, disabledAt: Date | null): Promise<UserSummary | null> {
  const row = await db
    .updateTable('users')
    .set({ disabled_at: disabledAt })
    .where(sql<boolean>`lower(email) = lower(${email})`)
    .returning(COLUMNS)
    .executeTakeFirst();
  return row ? summaryOf(row) : null;
}
