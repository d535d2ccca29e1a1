import { sql, type Kysely, type Migration } from 'kysely';

// Issue 3: per-target team, watermark and quiet period; source details of mentions; alerts about targets.
export const targetHealth: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      ALTER TABLE targets
        ADD COLUMN team text,
        ADD COLUMN expected_quiet_days integer NOT NULL DEFAULT 14,
        ADD COLUMN watermark_at timestamptz;

      -- A target's latest mention, for the silence check and the health view, without scanning its mentions.
      CREATE INDEX mentions_target_latest_idx ON mentions (target_id, (coalesce(published_at, first_seen_at)) DESC);

      -- What a source tells beyond the common fields (verified review, links, forwarded from, signature).
      ALTER TABLE mentions ADD COLUMN details jsonb NOT NULL DEFAULT '{}';

      ALTER TABLE alerts ADD COLUMN target_id text REFERENCES targets(id);
      CREATE INDEX alerts_target_idx ON alerts (target_id, id DESC) WHERE target_id IS NOT NULL;
    `.execute(db);
  },
};
