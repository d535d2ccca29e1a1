import { queueDigests } from '../alerts/digest.ts';
import type { ChannelRoute } from '../alerts/routes.ts';
import type { Destination } from '../delivery/outbox.ts';
import type { Logger } from '../log/logger.ts';
import { respondToPresses } from '../pipeline/channel-actions.ts';
import { evaluateCrises, repeatUnacknowledged, type CrisisDeps } from '../pipeline/crisis.ts';
import type { TicketPolicy } from '../pipeline/ticket-policy.ts';
import type { Db } from '../store/connect.ts';
import { listIncidents } from '../store/incidents.ts';

export interface AlertSweepDeps {
  db: Db;
  now: () => Date;
  log: Logger;
  channels: readonly ChannelRoute[];
  crisis: { enabled: boolean; escalateAfterSeconds: number };
  hourCache?: CrisisDeps['hourCache'];
}

/**
 * The alerting round a worker runs every minute: each brand's crisis detector (open, escalate, refresh, resolve
 * incidents), reminders of unacknowledged incidents, and the daily digests that fell due. Every step is keyed in
 * the store, so two workers sweeping at once do each thing once.
 */
export async function sweepAlerts(deps: AlertSweepDeps): Promise<{ incidentEvents: number; reminders: number; digests: number }> {
  const crisis: CrisisDeps = {
    db: deps.db, now: deps.now, log: deps.log, channels: deps.channels,
    lifecycle: { escalateAfterMinutes: deps.crisis.escalateAfterSeconds / 60 },
    ...(deps.hourCache ? { hourCache: deps.hourCache } : {}),
  };
  let incidentEvents = 0;
  let reminders = 0;
  if (deps.crisis.enabled) {
    incidentEvents = await evaluateCrises(crisis);
    const { incidents } = await listIncidents(deps.db, { status: 'open', limit: 100 });
    reminders = await repeatUnacknowledged(crisis, incidents);
  }
  const digests = await queueDigests(deps);
  return { incidentEvents, reminders, digests };
}

/**
 * Reads button presses by long polling for each channel that asks for it (Telegram with `updates: polling`),
 * handles each, and answers the presser. One loop per channel; a failed poll waits a little and tries again.
 * Several processes polling one bot: Telegram lets one poll at a time and answers the others 409, which
 * only delays them.
 */
export function startActionPolling(deps: {
  channels: readonly Destination[];
  handler: CrisisDeps & { policy: TicketPolicy };
  log: Logger;
  waitSeconds?: number;
  retryMs?: number;
}): { stop(): Promise<void> } {
  const abort = new AbortController();
  const sleep = (ms: number) => new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    abort.signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
  });
  const loops = deps.channels
    .filter((d) => d.connector.pollActions && d.connector.pollsActions?.(d.config))
    .map(async (channel) => {
      const { connector, config } = channel;
      let offset: number | null = null;
      let failing = false;
      while (!abort.signal.aborted) {
        try {
          const polled = await connector.pollActions!(config, offset, { waitSeconds: deps.waitSeconds ?? 25, signal: abort.signal });
          offset = polled.offset;
          if (failing) deps.log.info({ channel: config.id }, 'reading button presses again');
          failing = false;
          await respondToPresses(deps.handler, channel, polled.actions);
        } catch (err) {
          if (abort.signal.aborted) break;
          // Once per streak: another process polling the same bot keeps failing this one, and says so each time.
          const level = failing ? 'debug' : 'warn';
          deps.log[level]({ channel: config.id, err: (err as Error).message }, 'could not read button presses; trying again');
          failing = true;
          await sleep(deps.retryMs ?? 5000);
        }
      }
    });
  return {
    async stop() {
      abort.abort();
      await Promise.all(loops);
    },
  };
}
