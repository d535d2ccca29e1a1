import { sql, type Kysely, type Migration } from 'kysely';

// Issue 12: a destination (helpdesk or alert channel) that keeps failing is a health state, kept per destination
// from every delivery attempt. Dead rows get an index of their own for "dead in the last 24 hours".
export const destinationHealth: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      CREATE TABLE destination_health (
        destination_kind text NOT NULL CHECK (destination_kind IN ('helpdesk', 'channel')),
        destination_id text NOT NULL,
        consecutive_failures integer NOT NULL DEFAULT 0,
        failing_since timestamptz,
        last_success_at timestamptz,
        last_failure_at timestamptz,
        last_error text,
        last_status integer,
        PRIMARY KEY (destination_kind, destination_id)
      );
      CREATE INDEX outbox_dead_idx ON outbox (last_attempt_at) WHERE status = 'dead';

      -- Destinations the outbox already named are known from the start, healthy, with what their rows tell.
      INSERT INTO destination_health (destination_kind, destination_id, last_success_at, last_failure_at)
      SELECT destination_kind, destination_id, max(delivered_at),
             max(last_attempt_at) FILTER (WHERE status IN ('pending', 'dead') AND attempts > 0)
      FROM outbox
      GROUP BY destination_kind, destination_id;
    `.execute(db);
  },
};
