import type { Db } from './connect.ts';

export interface BrandRow {
  id: number;
  name: string;
  keywords: string[];
  /** Handles, ids or names of the brand's own accounts on any source. */
  ownAccounts: string[];
}

const COLUMNS = ['id', 'name', 'keywords', 'own_accounts as ownAccounts'] as const;

/** Creates the brand or updates its keywords and own accounts; config is the source of truth. */
export async function upsertBrand(
  db: Db,
  brand: { name: string; keywords: readonly string[]; ownAccounts?: readonly string[] | undefined },
  now: Date,
): Promise<BrandRow> {
  const values = { keywords: JSON.stringify(brand.keywords), own_accounts: JSON.stringify(brand.ownAccounts ?? []), updated_at: now };
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
