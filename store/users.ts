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

/**
 * Changes a user found by id or email (whatever its case): role, or disabled (a date) / enabled (null). A
 * disabled user's sessions end at once. Null when there is no such user.
 */
export async function updateUser(
  db: Db,
  who: { id: number } | { email: string },
  set: { role?: UserRole; disabledAt?: Date | null },
): Promise<UserSummary | null> {
  const row = await db
    .updateTable('users')
    .set({ ...(set.role !== undefined ? { role: set.role } : {}), ...(set.disabledAt !== undefined ? { disabled_at: set.disabledAt } : {}) })
    .where('id' in who ? sql<boolean>`id = ${who.id}` : sql<boolean>`lower(email) = lower(${who.email})`)
    .returning(COLUMNS)
    .executeTakeFirst();
  if (row && set.disabledAt) await deleteSessionsOf(db, row.id);
  return row ? summaryOf(row) : null;
}

/** The language a person chose for the inbox; null when there is no such user. */
export async function setUserLocale(db: Db, userId: number, locale: 'ru' | 'en' | null): Promise<UserSummary | null> {
  const row = await db.updateTable('users').set({ locale }).where('id', '=', userId).returning(COLUMNS).executeTakeFirst();
  return row ? summaryOf(row) : null;
}

/** Disables (or enables again) the user with this email; null when there is none. */
export async function setUserDisabled(db: Db, email: string, disabledAt: Date | null): Promise<UserSummary | null> {
  return updateUser(db, { email }, { disabledAt });
}

export interface LoginCandidate extends UserSummary {
  passwordHash: string;
  failedLogins: number;
  lockedUntil: Date | null;
}

/** The user signing in with this email, with what the sign-in checks; null when there is none. */
export async function findUserForLogin(db: Db, email: string): Promise<LoginCandidate | null> {
  const row = await db
    .selectFrom('users')
    .select([...COLUMNS, 'password_hash', 'failed_logins', 'locked_until'])
    .where(sql<boolean>`lower(email) = lower(${email})`)
    .executeTakeFirst();
  return row ? { ...summaryOf(row), passwordHash: row.password_hash, failedLogins: row.failed_logins, lockedUntil: row.locked_until } : null;
}

/**
 * A failed sign-in: one more in a row, and the account locked until `lockUntil` when that reaches `maxFailures`
 * (the count starts again after the lock). Atomic, so simultaneous attempts count each. Returns the lock.
 */
export async function recordLoginFailure(db: Db, userId: number, opts: { maxFailures: number; lockUntil: Date }): Promise<Date | null> {
  const reached = sql<boolean>`failed_logins + 1 >= ${opts.maxFailures}`;
  const row = await db
    .updateTable('users')
    .set({
      failed_logins: sql<number>`CASE WHEN ${reached} THEN 0 ELSE failed_logins + 1 END`,
      locked_until: sql<Date | null>`CASE WHEN ${reached} THEN ${opts.lockUntil}::timestamptz ELSE locked_until END`,
    })
    .where('id', '=', userId)
    .returning('locked_until')
    .executeTakeFirst();
  return row?.locked_until ?? null;
}

export async function recordLoginSuccess(db: Db, userId: number, at: Date): Promise<void> {
  await db.updateTable('users').set({ failed_logins: 0, locked_until: null, last_login_at: at }).where('id', '=', userId).execute();
}

export interface SessionUser {
  id: number;
  email: string;
  role: UserRole;
  locale: 'ru' | 'en' | null;
  csrfToken: string;
  lastSeenAt: Date;
}

export async function createSession(
  db: Db,
  session: { tokenHash: string; userId: number; csrfToken: string; expiresAt: Date },
  now: Date,
): Promise<void> {
  await db
    .insertInto('sessions')
    .values({ token_hash: session.tokenHash, user_id: session.userId, csrf_token: session.csrfToken, created_at: now, expires_at: session.expiresAt, last_seen_at: now })
    .execute();
}

/** The live session of this token: not expired, and its user not disabled. */
export async function findSession(db: Db, tokenHash: string, now: Date): Promise<SessionUser | null> {
  const row = await db
    .selectFrom('sessions as s')
    .innerJoin('users as u', 'u.id', 's.user_id')
    .select(['u.id', 'u.email', 'u.role', 'u.locale', 's.csrf_token', 's.last_seen_at'])
    .where('s.token_hash', '=', tokenHash)
    .where('s.expires_at', '>', now)
    .where('u.disabled_at', 'is', null)
    .executeTakeFirst();
  return row ? { id: row.id, email: row.email, role: row.role, locale: row.locale, csrfToken: row.csrf_token, lastSeenAt: row.last_seen_at } : null;
}

export async function touchSession(db: Db, tokenHash: string, now: Date): Promise<void> {
  await db.updateTable('sessions').set({ last_seen_at: now }).where('token_hash', '=', tokenHash).execute();
}

export async function deleteSession(db: Db, tokenHash: string): Promise<void> {
  await db.deleteFrom('sessions').where('token_hash', '=', tokenHash).execute();
}

/** A disabled user is signed out everywhere at once. */
export async function deleteSessionsOf(db: Db, userId: number): Promise<void> {
  await db.deleteFrom('sessions').where('user_id', '=', userId).execute();
}
