import { sql, type Kysely, type Migration } from 'kysely';

// Issue: GET /api/v1/targets found each target's newest mention with a DISTINCT ON over the whole mentions table
// (a sort of a million rows, 2.3 s), and a per-target LIMIT 1 is no cure: PostgreSQL may walk another index
// hoping to meet the target's rows soon, and for a silent target it walks the whole of it. The newest mention's
// time is kept on the target instead, advanced in the transaction that stores the mention.
export const targetLatest: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      ALTER TABLE targets ADD COLUMN latest_mention_at timestamptz;
      UPDATE targets t SET latest_mention_at = latest.at
        FROM (SELECT target_id, max(coalesce(published_at, first_seen_at)) AS at FROM mentions
              WHERE target_id IS NOT NULL GROUP BY target_id) latest
        WHERE latest.target_id = t.id;
      -- Its only readers were the two queries this column replaces; every insert paid for it.
      DROP INDEX mentions_target_latest_idx;
    `.execute(db);
  },
};
