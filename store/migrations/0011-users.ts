import { sql, type Kysely, type Migration } from 'kysely';

// Issue 14: people who use the inbox, with a role. API keys stay for machines. An email is unique whatever its
// case; a disabled user keeps their row (writes name them) but cannot sign in. Failed sign-ins in a row lock
// the account for a while, in the store so that every API process sees it. A session is kept by the hash of
// its cookie's token, with the CSRF token the browser must echo on writes.
export const users: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      CREATE TABLE users (
        id serial PRIMARY KEY,
        email text NOT NULL,
        role text NOT NULL CHECK (role IN ('admin', 'agent', 'viewer')),
        password_hash text NOT NULL,
        locale text CHECK (locale IN ('ru', 'en')),
        created_at timestamptz NOT NULL,
        created_by text NOT NULL,
        disabled_at timestamptz,
        last_login_at timestamptz,
        failed_logins integer NOT NULL DEFAULT 0,
        locked_until timestamptz
      );
      CREATE UNIQUE INDEX users_email_idx ON users (lower(email));

      CREATE TABLE sessions (
        token_hash text PRIMARY KEY,
        user_id integer NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        csrf_token text NOT NULL,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        last_seen_at timestamptz NOT NULL
      );
      CREATE INDEX sessions_user_idx ON sessions (user_id);
    `.execute(db);
  },
};
