import { sql, type Kysely, type Migration } from 'kysely';

// Issue 14: people who use the inbox, with a role. API keys stay for machines. An email is unique whatever its
// case; a disabled user keeps their row (writes name them) but cannot sign in.
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
        last_login_at timestamptz
      );
      CREATE UNIQUE INDEX users_email_idx ON users (lower(email));
    `.execute(db);
  },
};
