import type { Kysely, LogEvent } from 'kysely';
import type { Database } from './schema.ts';

// A database that runs out of disk space while earshot runs (SQLSTATE 53100, disk_full: "could not extend file …:
// No space left on device", from PostgreSQL and from PGlite alike) fails the writes that need space and keeps
// answering reads. What earshot does about it: the write's caller fails as usual (a crawl is retried, a delivery
// backs off, the API answers 503), /health says so, and the first write that succeeds again clears it.

/** PostgreSQL's SQLSTATE for a full disk. */
export const DISK_FULL = '53100';

export function isDiskFull(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === DISK_FULL;
}

const fullSince = new WeakMap<object, Date>();
const WRITE = /^\s*(insert|update|delete)\b/i;

/**
 * Makes a store's Kysely with a log hook that notes a full disk and its end: `make` gets the hook for its
 * `log` option. The hook sees every query; it only compares a code and, while the disk is full, a verb.
 */
export function watchDiskSpace(make: (log: (event: LogEvent) => void) => Kysely<Database>): Kysely<Database> {
  const db: Kysely<Database> = make((event) => {
    if (event.level === 'error') {
      if (isDiskFull(event.error) && !fullSince.has(db)) fullSince.set(db, new Date());
    } else if (fullSince.has(db) && WRITE.test(event.query.sql)) {
      fullSince.delete(db);
    }
  });
  return db;
}

/** When the store's disk filled up (a write failed for want of space, and none has succeeded since), or null. */
export function diskFullSince(db: object): Date | null {
  return fullSince.get(db) ?? null;
}
