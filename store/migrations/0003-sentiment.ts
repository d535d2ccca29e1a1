import { sql, type Kysely, type Migration } from 'kysely';

// Issue 4: model confidence and reasons on mentions, people's corrections, and per-brand models trained from them.
export const sentiment: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      -- The brand's own accounts (handles, ids, names): their posts never need a reply from the brand.
      ALTER TABLE brands ADD COLUMN own_accounts jsonb NOT NULL DEFAULT '[]';

      -- action_reasons has no CHECK: the list lives in sentiment/types.ts and grows with the models,
      -- and a new reason must not fail a crawl page until a migration catches up.
      ALTER TABLE mentions
        ADD COLUMN sentiment_confidence real CHECK (sentiment_confidence BETWEEN 0 AND 1),
        ADD COLUMN action_reasons text[] NOT NULL DEFAULT '{}',
        ADD COLUMN sentiment_reason text,
        ADD COLUMN sentiment_corrected boolean NOT NULL DEFAULT false,
        ADD COLUMN actionable_corrected boolean NOT NULL DEFAULT false;

      CREATE TABLE mention_corrections (
        id bigserial PRIMARY KEY,
        mention_id bigint NOT NULL REFERENCES mentions(id) ON DELETE CASCADE,
        brand_id integer NOT NULL REFERENCES brands(id),
        field text NOT NULL CHECK (field IN ('sentiment', 'actionable')),
        old_value text NOT NULL,
        new_value text NOT NULL,
        actor text NOT NULL,
        note text,
        created_at timestamptz NOT NULL
      );
      -- The trainer reads a brand's corrections of one field from where it stopped.
      CREATE INDEX mention_corrections_brand_idx ON mention_corrections (brand_id, field, id);
      -- A mention's history in the API, and the cascade when a mention goes.
      CREATE INDEX mention_corrections_mention_idx ON mention_corrections (mention_id, id DESC);

      CREATE TABLE sentiment_models (
        id bigserial PRIMARY KEY,
        brand_id integer NOT NULL REFERENCES brands(id),
        lang text NOT NULL,
        version integer NOT NULL,
        weights bytea NOT NULL,
        corrections integer NOT NULL,
        dev_before real NOT NULL,
        dev_after real NOT NULL,
        created_at timestamptz NOT NULL,
        UNIQUE (brand_id, lang, version)
      );
    `.execute(db);
  },
};
