import type { DigestDocument, IncidentExplanation } from '../documents/incident.ts';
import type { Db } from '../store/connect.ts';
import { digestCounts, heldAlertCount, listIncidents } from '../store/incidents.ts';
import { enqueueAlerts } from '../store/outbox.ts';
import { dueDigest, type ChannelRoute } from './routes.ts';

/**
 * Queues each channel's daily digest once its local time passed the digest time: the last 24 hours per brand
 * (mentions, negative, tickets opened, solved, open, breached, incidents) and the incidents of the period. The
 * message id (channel and local date) keeps it at one a day whoever runs the sweep. Returns how many it queued.
 */
export async function queueDigests(deps: { db: Db; now: () => Date; channels: readonly ChannelRoute[] }): Promise<number> {
  const now = deps.now();
  let queued = 0;
  for (const route of deps.channels) {
    if (!route.events.includes('digest') || !route.digest) continue;
    const due = dueDigest(route, now);
    if (!due) continue;
    const messageId = `msg_digest_${route.id}_${due.date}`;
    const brands = await digestCounts(deps.db, due.from, due.to);
    const { incidents } = await listIncidents(deps.db, { limit: 50 });
    const inPeriod = incidents.filter((i) => i.openedAt < due.to && (i.resolvedAt === null || i.resolvedAt >= due.from));
    const digest: DigestDocument = {
      channel: route.id,
      period_start: due.from.toISOString(),
      period_end: due.to.toISOString(),
      time_zone: route.digest.timeZone,
      brands: brands.map((b) => ({
        brand: b.brand, name: b.brand, mentions: b.mentions, negative: b.negative, tickets_opened: b.ticketsOpened,
        tickets_solved: b.ticketsSolved, tickets_open: b.ticketsOpen, sla_breached: b.slaBreached, incidents: b.incidents,
      })),
      incidents: inPeriod.map((i) => ({
        id: i.id, brand: i.brand, severity: i.severity, status: i.status, summary: (i.explanation as unknown as IncidentExplanation).why.summary,
      })),
      held: await heldAlertCount(deps.db, route.id, due.from, due.to),
    };
    const negative = brands.reduce((n, b) => n + b.negative, 0);
    const opened = brands.reduce((n, b) => n + b.ticketsOpened, 0);
    queued += await enqueueAlerts(deps.db, [{
      kind: `digest:${due.date}`,
      brandId: null,
      message: {
        messageId, destinationKind: 'channel', destinationId: route.id, eventType: 'digest', ticketId: null,
        payload: {
          type: 'digest',
          timestamp: now.toISOString(),
          data: { digest, alert: { kind: 'digest', summary: `Daily digest ${due.date}: ${negative} negative mentions, ${opened} tickets opened, ${inPeriod.length} incidents` } },
        },
      },
    }], now);
  }
  return queued;
}
