import type { ChannelRoute } from '../alerts/routes.ts';
import type { EarshotConfig } from './schema.ts';

/** Each configured channel's notification route, as the alert planners take it. */
export function channelRoutesOf(config: Pick<EarshotConfig, 'channels'>): ChannelRoute[] {
  return config.channels.map((c) => ({
    id: c.id,
    events: c.events,
    filters: c.filters,
    quietHours: c.quietHours ?? null,
    groupWaitSeconds: c.grouping.groupWait,
    groupIntervalSeconds: c.grouping.groupInterval,
    repeatIntervalSeconds: c.grouping.repeatInterval,
    digest: c.digest ?? null,
  }));
}
