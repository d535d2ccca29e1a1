import type { Migration } from 'kysely';
import { init } from './0001-init.ts';

/** Every migration, in order; names sort lexically, so keep the numeric prefix. */
export const migrations: Record<string, Migration> = {
  '0001-init': init,
};
