import type { Db } from './connect.ts';

export interface BrandRow {
  id: number;
  name: string;
  keywords: string[];
}

/** Creates the brand or updates its keywords; config is the source of truth. */
export async function upsertBrand(db: Db, brand: { name: string; keywords: readonly string[] }, now: Date): Promise<BrandRow> {
  return db
    .insertInto('brands')
    .values({ name: brand.name, keywords: JSON.stringify(brand.keywords), updated_at: now })
    .onConflict((oc) => oc.column('name').doUpdateSet({ keywords: JSON.stringify(brand.keywords), updated_at: now }))
    .returning(['id', 'name', 'keywords'])
    .executeTakeFirstOrThrow();
}

export async function findBrand(db: Db, name: string): Promise<BrandRow | undefined> {
  return db.selectFrom('brands').select(['id', 'name', 'keywords']).where('name', '=', name).executeTakeFirst();
}
