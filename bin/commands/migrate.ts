import type { CommandContext } from '../context.ts';

/** `earshot migrate`: applies the migrations the database lacks and names them. */
export async function commandMigrate(_args: string[], ctx: CommandContext): Promise<number> {
  const applied = await ctx.runtime.migrate();
  ctx.io.out(applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n');
  return 0;
}
