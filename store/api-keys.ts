import { sql, type Selectable } from 'kysely';
import { createHash, randomBytes } from 'node:crypto';
import type { Db } from './connect.ts';
import type { Database } from './schema.ts';

export const API_KEY_SCOPES = ['read', 'write'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

const KEY_PREFIX = 'esk_';
const KEY_FORMAT = /^esk_[A-Za-z0-9_-]{32,}$/;

export interface CreatedApiKey {
  id: number;
  name: string;
  prefix: string;
  scopes: ApiKeyScope[];
  /** The plaintext key: shown once, never stored. */
  key: string;
}

export interface FoundApiKey {
  id: number;
  name: string;
  scopes: ApiKeyScope[];
  lastUsedAt: Date | null;
}

export interface ApiKeySummary {
  id: number;
  name: string;
  prefix: string;
  scopes: ApiKeyScope[];
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export function hashApiKey(plaintext: string): string {
  return createHash('sha256').update(plaintext, 'utf8').digest('hex');
}

export async function createApiKey(
  db: Db,
  input: { name: string; scopes: readonly ApiKeyScope[] },
): Promise<CreatedApiKey> {
  const scopes = normalizeScopes(input.scopes);
  const key = KEY_PREFIX + randomBytes(32).toString('base64url');
  const prefix = key.slice(KEY_PREFIX.length, KEY_PREFIX.length + 8);
  const row = await db
    .insertInto('api_keys')
    .values({ name: input.name, prefix, key_hash: hashApiKey(key), scopes: JSON.stringify(scopes) })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id: row.id, name: input.name, prefix, scopes, key };
}

/** The active key matching a plaintext, or null (unknown, malformed or revoked). */
export async function findApiKey(db: Db, plaintext: string): Promise<FoundApiKey | null> {
  return (await findApiKeyInSnapshot(db, plaintext)).key;
}

/**
 * findApiKey, and in the same round trip the database snapshot it was read in (pg_current_snapshot): what the
 * answer cache (api/answer-cache.ts) keys answers by, read once per request.
 */
export async function findApiKeyInSnapshot(db: Db, plaintext: string): Promise<{ key: FoundApiKey | null; snapshot: string | null }> {
  if (!KEY_FORMAT.test(plaintext)) return { key: null, snapshot: null };
  const row = await db
    .selectNoFrom((eb) => [
      sql<string>`pg_current_snapshot()::text`.as('snapshot'),
      eb.selectFrom('api_keys')
        .select(sql<FoundKeyRow>`json_build_object('id', id, 'name', name, 'scopes', scopes, 'last_used_at', last_used_at)`.as('k'))
        .where('key_hash', '=', hashApiKey(plaintext))
        .where('revoked_at', 'is', null)
        .as('key'),
    ])
    .executeTakeFirstOrThrow();
  const k = row.key;
  return {
    snapshot: row.snapshot,
    key: k === null ? null : { id: k.id, name: k.name, scopes: normalizeScopes(k.scopes), lastUsedAt: k.last_used_at === null ? null : new Date(k.last_used_at) },
  };
}

/** An api_keys row as JSON: timestamps are text. */
interface FoundKeyRow {
  id: number;
  name: string;
  scopes: string[];
  last_used_at: string | null;
}

const SUMMARY_COLUMNS = ['id', 'name', 'prefix', 'scopes', 'created_at', 'last_used_at', 'revoked_at'] as const;
type SummaryRow = Pick<Selectable<Database['api_keys']>, (typeof SUMMARY_COLUMNS)[number]>;

function selectSummaries(db: Db) {
  return db.selectFrom('api_keys').select(SUMMARY_COLUMNS);
}

function toSummary(row: SummaryRow): ApiKeySummary {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scopes: normalizeScopes(row.scopes),
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}

export async function listApiKeys(db: Db): Promise<ApiKeySummary[]> {
  return (await selectSummaries(db).orderBy('id').execute()).map(toSummary);
}

/** One key by its ID, revoked or not; null when there is none. */
export async function getApiKey(db: Db, id: number): Promise<ApiKeySummary | null> {
  const row = await selectSummaries(db).where('id', '=', id).executeTakeFirst();
  return row === undefined ? null : toSummary(row);
}

/** Revokes a key; false when it does not exist or was already revoked. */
export async function revokeApiKey(db: Db, id: number, now: Date = new Date()): Promise<boolean> {
  const result = await db
    .updateTable('api_keys')
    .set({ revoked_at: now })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * Records a use of the key unless one was recorded less than `minIntervalMs` ago; the guard sits in the
 * WHERE clause so several API processes sharing a database still write at most once per interval.
 */
export async function touchApiKey(db: Db, id: number, now: Date, minIntervalMs = 60_000): Promise<boolean> {
  const threshold = new Date(now.getTime() - minIntervalMs);
  const result = await db
    .updateTable('api_keys')
    .set({ last_used_at: now })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<=', threshold)]))
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

function normalizeScopes(scopes: readonly string[]): ApiKeyScope[] {
  return API_KEY_SCOPES.filter((scope) => scopes.includes(scope));
}
