import type { Db } from './connect.ts';

export interface BrandRow {
  id: number;
  name: string;
  keywords: string[];
  /** Handles, ids or names of the brand's own accounts on any source. */
  ownAccounts: string[];
  /** The brand's query in the query language; null: its keywords and aliases, OR-ed. */
  query: string | null;
  /** Other names and transliterations (Kaspi / Каспи). */
  aliases: string[];
}

const COLUMNS = ['id', 'name', 'keywords', 'own_accounts as ownAccounts', 'query', 'aliases'] as const;

/** Creates the brand or updates what the config says of it; config is the source of truth. */
export async function upsertBrand(
  db: Db,
  brand: {
    name: string;
    keywords: readonly string[];
    ownAccounts?: readonly string[] | undefined;
    query?: string | null | undefined;
    aliases?: readonly string[] | undefined;
  },
  now: Date,
): Promise<BrandRow> {
  const values = {
    keywords: JSON.stringify(brand.keywords),
    own_accounts: JSON.stringify(brand.ownAccounts ?? []),
    query: brand.query ?? null,
    aliases: JSON.stringify(brand.aliases ?? []),
    updated_at: now,
  };
  return db
    .insertInto('brands')
    .values({ name: brand.name, ...values })
    .onConflict((oc) => oc.column('name').doUpdateSet(values))
    .returning(COLUMNS)
    .executeTakeFirstOrThrow();
}

export async function findBrand(db: Db, name: string): Promise<BrandRow | undefined> {
  return db.selectFrom('brands').select(COLUMNS).where('name', '=', name).executeTakeFirst();
}

export async function listBrands(db: Db): Promise<BrandRow[]> {
  return db.selectFrom('brands').select(COLUMNS).orderBy('id').execute();
}

/** The names of the given brands, by id. */
export async function brandNamesOf(db: Db, ids: readonly number[]): Promise<Map<number, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom('brands').select(['id', 'name']).where('id', 'in', ids).execute();
  return new Map(rows.map((r) => [r.id, r.name]));
}
