import { sql, type Kysely, type Migration } from 'kysely';

// Issue 10: targets that serve several brands and mentions linked to each brand they name; cron fires
// claimed once and skipped fires counted; the processes that crawl, with the jobs they hold, so a crash is
// recovered in seconds; request slots shared by every process for sources that limit an account.
export const runtime: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      -- A target's brands in config order; the first owns what the target keeps without a match (reviews of
      -- its branch or app, comments on its own page). targets.brand_id stays that first brand.
      CREATE TABLE target_brands (
        target_id text NOT NULL REFERENCES targets(id) ON DELETE CASCADE,
        brand_id integer NOT NULL REFERENCES brands(id),
        position integer NOT NULL,
        PRIMARY KEY (target_id, brand_id)
      );
      INSERT INTO target_brands (target_id, brand_id, position) SELECT id, brand_id, 0 FROM targets;

      -- Every brand a mention names. mentions.brand_id stays the brand it was first stored for: its story
      -- (cluster), its ticket and the sentiment model that scored it.
      CREATE TABLE mention_brands (
        brand_id integer NOT NULL REFERENCES brands(id),
        mention_id bigint NOT NULL REFERENCES mentions(id) ON DELETE CASCADE,
        PRIMARY KEY (brand_id, mention_id)
      );
      CREATE INDEX mention_brands_mention_idx ON mention_brands (mention_id);
      INSERT INTO mention_brands (brand_id, mention_id) SELECT brand_id, id FROM mentions;

      -- The last cron fire a scheduler claimed (a second scheduler's copy of the fire finds it taken), and
      -- the fires that found the target still queued or running.
      ALTER TABLE targets
        ADD COLUMN last_fired_at timestamptz,
        ADD COLUMN skipped_runs integer NOT NULL DEFAULT 0,
        ADD COLUMN last_skipped_at timestamptz;

      -- Every process that crawls registers and beats; one that stops beating, or whose pid is gone from
      -- its host, is dead: its jobs go back to the queue and its crawl runs are closed as interrupted.
      CREATE TABLE processes (
        id text PRIMARY KEY,
        role text NOT NULL,
        host text NOT NULL,
        pid integer NOT NULL,
        concurrency integer NOT NULL DEFAULT 0,
        started_at timestamptz NOT NULL,
        heartbeat_at timestamptz NOT NULL
      );

      -- Which process holds which crawl job: written in the transaction that takes the job from pg-boss.
      CREATE TABLE job_leases (
        job_id uuid PRIMARY KEY,
        queue text NOT NULL,
        target_id text NOT NULL,
        process_id text NOT NULL,
        leased_at timestamptz NOT NULL
      );
      CREATE INDEX job_leases_process_idx ON job_leases (process_id);

      ALTER TABLE crawl_runs ADD COLUMN process_id text;
      ALTER TABLE crawl_runs DROP CONSTRAINT crawl_runs_status_check;
      ALTER TABLE crawl_runs ADD CONSTRAINT crawl_runs_status_check
        CHECK (status IN ('running', 'ok', 'failed', 'interrupted'));
      -- Runs left running by a version that did not record its process can only have been interrupted.
      UPDATE crawl_runs SET status = 'interrupted', finished_at = coalesce(finished_at, started_at),
        error = 'interrupted before earshot recorded which process ran crawls'
        WHERE status = 'running';
      CREATE INDEX crawl_runs_running_idx ON crawl_runs (process_id) WHERE status = 'running';

      -- The next free request slot per rate-limited account or host, shared by every process (VK allows a
      -- token 3 requests a second, whichever worker sends them).
      CREATE TABLE host_slots (
        key text PRIMARY KEY,
        next_at timestamptz NOT NULL
      );
    `.execute(db);
  },
};
