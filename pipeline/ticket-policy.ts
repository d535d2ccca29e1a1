import type { ChannelRoute } from '../alerts/routes.ts';
import type { SlaSettings } from '../tickets/lifecycle.ts';
import { slaPolicySchema } from '../tickets/sla.ts';
import { compileRoutingRules } from './routing.ts';

/**
 * Everything that decides where tickets go and how fast they are due, parsed once from the config: the default
 * team, the configured helpdesks and channels, the routing rules and the SLA clocks.
 */
export interface TicketPolicy {
  defaultTeam: string;
  /** Every configured team id: what a person may assign a ticket to. */
  teams: readonly string[];
  helpdesks: readonly { id: string }[];
  /** Every channel with its route: the events it hears, filters, quiet hours, grouping. */
  channels: readonly ChannelRoute[];
  routing: ReturnType<typeof compileRoutingRules>;
  sla: SlaSettings;
}

/** A policy without routing rules, on the default SLA targets around the clock: for tools, tests and benches. */
export function basicTicketPolicy(input: {
  defaultTeam: string;
  helpdesks?: readonly { id: string }[];
  channels?: readonly ChannelRoute[];
  teams?: readonly string[];
}): TicketPolicy {
  return {
    defaultTeam: input.defaultTeam,
    teams: input.teams ?? [input.defaultTeam],
    helpdesks: input.helpdesks ?? [],
    channels: input.channels ?? [],
    routing: compileRoutingRules([]),
    sla: { policy: slaPolicySchema.parse({}), hoursOf: () => null },
  };
}
