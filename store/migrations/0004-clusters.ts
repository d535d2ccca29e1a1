import { sql, type Kysely, type Migration } from 'kysely';

// Issue 5: the brand query language, near-duplicate clusters of mentions, and one open ticket per cluster.
export const clusters: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      -- A brand's own query (null: its keywords and aliases, OR-ed) and its aliases and transliterations.
      ALTER TABLE brands ADD COLUMN query text, ADD COLUMN aliases jsonb NOT NULL DEFAULT '[]';

      CREATE TABLE clusters (
        id bigserial PRIMARY KEY,
        brand_id integer NOT NULL REFERENCES brands(id),
        -- The first mention of the story: what a person reads for the whole cluster.
        representative_id bigint NOT NULL REFERENCES mentions(id) ON DELETE CASCADE,
        size integer NOT NULL DEFAULT 1,
        sources text[] NOT NULL DEFAULT '{}',
        first_seen_at timestamptz NOT NULL,
        last_seen_at timestamptz NOT NULL
      );
      CREATE INDEX clusters_brand_idx ON clusters (brand_id, last_seen_at DESC);

      -- fingerprint: the content key's hash (exact copies across sources); lsh: MinHash band keys, looked up
      -- through a GIN index so finding candidates costs the same in a store of 10k or 1M mentions.
      ALTER TABLE mentions
        ADD COLUMN cluster_id bigint REFERENCES clusters(id) ON DELETE SET NULL,
        ADD COLUMN fingerprint text,
        ADD COLUMN lsh bigint[] NOT NULL DEFAULT '{}';
      CREATE INDEX mentions_fingerprint_idx ON mentions (brand_id, fingerprint) WHERE fingerprint IS NOT NULL;
      -- fastupdate off: with it, new keys wait in a pending list that every lookup reads through, so the
      -- cost per new mention grew with the number of recent inserts (10 ms at 100k in our bench).
      CREATE INDEX mentions_lsh_idx ON mentions USING gin (lsh) WITH (fastupdate = off);
      CREATE INDEX mentions_cluster_idx ON mentions (cluster_id, id);

      -- One open ticket per cluster: later copies of the story attach to it instead of opening new ones.
      ALTER TABLE tickets ADD COLUMN cluster_id bigint REFERENCES clusters(id) ON DELETE SET NULL;
      CREATE UNIQUE INDEX tickets_open_cluster_idx ON tickets (cluster_id)
        WHERE cluster_id IS NOT NULL AND status IN ('new', 'open', 'pending');
    `.execute(db);
  },
};
