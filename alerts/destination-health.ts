import { FAILURES_BEFORE_FAILING, type DestinationEpisode } from '../store/destination-health.ts';
import type { ChannelAlert } from '../store/outbox.ts';

type Channels = readonly { id: string; events: readonly string[] }[];

// An error page's text says nothing more after a line or two; the whole of it is on the outbox row.
const ERROR_CHARS = 200;

/**
 * "Destination failing" alerts for an episode that just started: one message per channel subscribed to
 * `destination.failing`, except the failing channel itself, which would only fail again. The message id
 * names the episode (its start), so planning it twice queues it once.
 */
export function planDestinationAlerts(input: { episode: DestinationEpisode; channels: Channels; now: Date }): ChannelAlert[] {
  const { episode } = input;
  const channels = input.channels.filter(
    (c) => c.events.includes('destination.failing') && !(episode.kind === 'channel' && c.id === episode.id),
  );
  if (channels.length === 0) return [];
  const lastError = shortenError(episode.lastError);
  const n = episode.consecutiveFailures;
  const attempts = `${n} failed delivery attempt${n === 1 ? '' : 's'} in a row`;
  // Below the threshold, the episode began because a delivery gave up (a 4xx that will never succeed).
  const why = n >= FAILURES_BEFORE_FAILING ? attempts : `a delivery to it gave up (${attempts})`;
  const last = lastError ?? (episode.lastStatus === null ? 'no response' : `HTTP ${episode.lastStatus}`);
  const summary = `${episode.kind} "${episode.id}" is failing: ${why}, the last: ${last}. See GET /api/v1/destinations.`;
  const payload = {
    type: 'destination.failing',
    timestamp: input.now.toISOString(),
    data: {
      destination: { kind: episode.kind, id: episode.id },
      failing_since: episode.failingSince.toISOString(),
      consecutive_failures: episode.consecutiveFailures,
      last_status: episode.lastStatus,
      last_error: lastError,
      alert: { kind: 'destination_failing', summary },
    },
  };
  const episodeKey = `msg_destination_${episode.kind}_${episode.id}_failing_${episode.failingSince.getTime()}`;
  return channels.map((channel) => ({
    kind: 'destination_failing',
    brandId: null,
    message: {
      // One message per channel: message ids are unique across the outbox.
      messageId: `${episodeKey}_channel_${channel.id}`,
      destinationKind: 'channel' as const,
      destinationId: channel.id,
      eventType: 'destination.failing',
      ticketId: null,
      payload,
    },
  }));
}

function shortenError(error: string | null): string | null {
  if (error === null) return null;
  const line = error.replace(/\s+/g, ' ').trim();
  return line.length <= ERROR_CHARS ? line : `${line.slice(0, ERROR_CHARS - 1)}…`;
}
