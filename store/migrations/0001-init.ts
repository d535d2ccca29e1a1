import { sql, type Kysely, type Migration } from 'kysely';

// Plain SQL that PostgreSQL 15 and PGlite (PostgreSQL 18) both accept: no uuidv7(), STORED generated columns.
export const init: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      CREATE TABLE brands (
        id serial PRIMARY KEY,
        name text NOT NULL UNIQUE,
        keywords jsonb NOT NULL DEFAULT '[]',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE targets (
        id text PRIMARY KEY,
        source text NOT NULL,
        brand_id integer NOT NULL REFERENCES brands(id),
        params jsonb NOT NULL DEFAULT '{}',
        schedule text NOT NULL,
        enabled boolean NOT NULL DEFAULT true,
        state text NOT NULL DEFAULT 'ok'
          CHECK (state IN ('ok', 'degraded', 'blocked', 'needs_action', 'disabled')),
        last_run_at timestamptz,
        last_success_at timestamptz,
        last_error_at timestamptz,
        last_error text,
        consecutive_errors integer NOT NULL DEFAULT 0,
        next_run_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE crawl_runs (
        id bigserial PRIMARY KEY,
        target_id text NOT NULL REFERENCES targets(id),
        status text NOT NULL CHECK (status IN ('running', 'ok', 'failed')),
        started_at timestamptz NOT NULL,
        finished_at timestamptz,
        pages integer NOT NULL DEFAULT 0,
        fetched integer NOT NULL DEFAULT 0,
        new integer NOT NULL DEFAULT 0,
        updated integer NOT NULL DEFAULT 0,
        duplicates integer NOT NULL DEFAULT 0,
        unmatched integer NOT NULL DEFAULT 0,
        tickets integer NOT NULL DEFAULT 0,
        error_kind text,
        error text
      );
      CREATE INDEX crawl_runs_target_idx ON crawl_runs (target_id, id DESC);

      CREATE TABLE mentions (
        id bigserial PRIMARY KEY,
        source text NOT NULL,
        external_id text NOT NULL,
        brand_id integer NOT NULL REFERENCES brands(id),
        target_id text REFERENCES targets(id),
        url text,
        author jsonb NOT NULL DEFAULT '{}',
        title text,
        text text NOT NULL,
        content_hash text NOT NULL,
        rating smallint CHECK (rating BETWEEN 1 AND 5),
        published_at timestamptz,
        first_seen_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        lang text NOT NULL,
        sentiment text NOT NULL
          CHECK (sentiment IN ('negative', 'neutral', 'positive', 'mixed', 'unscored')),
        sentiment_score real,
        sentiment_model text NOT NULL,
        actionable boolean NOT NULL,
        metrics jsonb NOT NULL DEFAULT '{}',
        reply jsonb,
        parent_external_id text,
        search tsvector GENERATED ALWAYS AS
          (to_tsvector('russian'::regconfig, coalesce(title, '') || ' ' || text)) STORED,
        UNIQUE (source, external_id)
      );
      CREATE INDEX mentions_brand_idx ON mentions (brand_id, id DESC);
      CREATE INDEX mentions_content_hash_idx ON mentions (content_hash);
      CREATE INDEX mentions_search_idx ON mentions USING gin (search);
      CREATE INDEX mentions_target_seen_idx ON mentions (target_id, first_seen_at);

      -- Ticket seq is the pull API's cursor: assigned under an advisory lock inside the writing
      -- transaction, so seq order is commit order and a reader never skips a late committer.
      CREATE SEQUENCE ticket_seq;
      CREATE TABLE tickets (
        id bigserial PRIMARY KEY,
        seq bigint NOT NULL UNIQUE,
        mention_id bigint NOT NULL UNIQUE REFERENCES mentions(id),
        brand_id integer NOT NULL REFERENCES brands(id),
        team text NOT NULL,
        status text NOT NULL DEFAULT 'new'
          CHECK (status IN ('new', 'open', 'pending', 'solved', 'closed')),
        priority text NOT NULL DEFAULT 'normal',
        title text NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      );

      CREATE TABLE outbox (
        id bigserial PRIMARY KEY,
        message_id text NOT NULL UNIQUE,
        destination_kind text NOT NULL CHECK (destination_kind IN ('helpdesk', 'channel')),
        destination_id text NOT NULL,
        event_type text NOT NULL,
        ticket_id bigint REFERENCES tickets(id),
        payload jsonb NOT NULL,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL,
        last_attempt_at timestamptz,
        last_status integer,
        last_error text,
        delivered_at timestamptz,
        created_at timestamptz NOT NULL
      );
      CREATE INDEX outbox_due_idx ON outbox (next_attempt_at) WHERE status = 'pending';
      CREATE INDEX outbox_ticket_idx ON outbox (ticket_id);
      CREATE INDEX outbox_status_idx ON outbox (status, id DESC);

      CREATE TABLE alerts (
        id bigserial PRIMARY KEY,
        kind text NOT NULL,
        channel_id text NOT NULL,
        ticket_id bigint REFERENCES tickets(id),
        brand_id integer REFERENCES brands(id),
        outbox_id bigint NOT NULL REFERENCES outbox(id),
        created_at timestamptz NOT NULL,
        UNIQUE (kind, channel_id, ticket_id)
      );

      CREATE TABLE api_keys (
        id serial PRIMARY KEY,
        name text NOT NULL,
        prefix text NOT NULL,
        key_hash text NOT NULL UNIQUE,
        scopes jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz,
        revoked_at timestamptz
      );
    `.execute(db);
  },
};
