import { configJsonSchema } from '../../config/load.ts';
import type { EarshotConfig } from '../../config/schema.ts';
import { loadCommandConfig, type CommandContext } from '../context.ts';
import { UsageError } from '../usage-error.ts';

/** `earshot config check [FILE]` and `earshot config schema`. */
export function commandConfig(args: string[], ctx: CommandContext): number {
  const [sub, file] = args;
  if (sub === 'schema') {
    ctx.io.out(`${JSON.stringify(configJsonSchema({ crawlers: ctx.runtime.crawlers }), null, 2)}\n`);
    return 0;
  }
  if (sub !== 'check') throw new UsageError('config needs "check [FILE]" or "schema"');
  const { file: path, config } = loadCommandConfig(ctx, file);
  ctx.io.out(`${file ?? ctx.env.EARSHOT_CONFIG ?? path}: ok (${describeConfig(config)})\n`);
  return 0;
}

function describeConfig(config: EarshotConfig): string {
  const enabled = config.targets.filter((t) => t.enabled).length;
  return [
    `${config.brands.length} brand(s)`,
    `${config.targets.length} target(s), ${enabled} enabled`,
    `${config.teams.length} team(s)`,
    `${config.channels.length} channel(s)`,
    `${config.helpdesks.length} helpdesk(s)`,
  ].join(', ');
}
