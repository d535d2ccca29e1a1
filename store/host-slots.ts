import { sql } from 'kysely';
import type { Db } from './connect.ts';

/**
 * Takes the next request slot of `key` (a host, for a source that limits each account), `intervalMs` after the
 * previous one, whichever process took that: the row is the queue. Resolves to the ms to wait before sending,
 * measured by the database's clock, so hosts whose clocks differ still space their requests.
 */
export async function reserveHostSlot(db: Db, key: string, intervalMs: number): Promise<number> {
  const { rows } = await sql<{ wait_ms: number }>`
    INSERT INTO host_slots AS s (key, next_at) VALUES (${key}, clock_timestamp() + make_interval(secs => ${intervalMs / 1000}))
    ON CONFLICT (key) DO UPDATE
      SET next_at = greatest(s.next_at, clock_timestamp()) + make_interval(secs => ${intervalMs / 1000})
    RETURNING greatest(0, extract(epoch FROM (s.next_at - clock_timestamp())) * 1000 - ${intervalMs})::float8 AS wait_ms
  `.execute(db);
  return rows[0]!.wait_ms;
}
