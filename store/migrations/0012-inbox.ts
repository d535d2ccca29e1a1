import { sql, type Kysely, type Migration } from 'kysely';

// The triage inbox (GET /api/v1/inbox, store/inbox.ts): open tickets by priority, and a mention's story ticket
// of any status.
export const inbox: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      -- The "needs reply" list in its default order, read in index order from a keyset cursor: priority (urgent
      -- first), then the first-response deadline (none last), then id. The expressions are those of
      -- store/inbox.ts, character for character, or the planner cannot use it.
      CREATE INDEX tickets_inbox_priority_idx ON tickets (
        (CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END),
        (coalesce(first_response_due_at, 'infinity'::timestamptz)),
        id
      ) WHERE status IN ('new', 'open', 'pending', 'on_hold');
      -- A mention's story ticket whatever its status; tickets_open_cluster_idx has only the open ones.
      CREATE INDEX tickets_cluster_idx ON tickets (cluster_id, id) WHERE cluster_id IS NOT NULL;
      -- since/until on a mention's instant (its publication, else when we first saw it), across targets.
      CREATE INDEX mentions_instant_idx ON mentions ((coalesce(published_at, first_seen_at)), id);
    `.execute(db);
  },
};
