import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertBrand, insertMention } from '../api/test-seed.ts';
import type { ChannelRoute } from '../alerts/routes.ts';
import { silentLogger } from '../log/logger.ts';
import type { Store } from '../store/connect.ts';
import { findLatestIncident, listIncidents } from '../store/incidents.ts';
import { createTestStore } from '../tests/helpers/test-store.ts';
import { actOnIncident, evaluateBrandCrisis, repeatUnacknowledged, type CrisisDeps } from './crisis.ts';

const HOUR = 3_600_000;
const CHANNELS: ChannelRoute[] = [
  { id: 'pr', events: ['incident.opened', 'incident.escalated', 'incident.updated', 'incident.resolved'], repeatIntervalSeconds: 2 * 3600 },
  { id: 'ops', events: ['incident.resolved'] },
];

// The live side of crisis detection on a real store: what the detector reads, how an incident moves, and what
// each step queues for the channels.
describe('crises on the store', () => {
  let store: Store;
  let clock = new Date('2026-11-16T06:00:00Z');
  let brandId: number;
  let serial = 0;
  const deps = (): CrisisDeps => ({ db: store.db, now: () => clock, log: silentLogger, channels: CHANNELS });
  const brand = () => ({ id: brandId, name: 'Acme' });

  async function burst(count: number, minutes: number) {
    for (let i = 0; i < count; i++) {
      const at = new Date(clock.getTime() + (i * minutes * 60_000) / count);
      await insertMention(store.db, {
        brandId, externalId: `burst-${++serial}`, sentiment: 'negative', author: { name: `angry${serial}` }, firstSeenAt: at, publishedAt: at,
        text: 'Acme froze my account and the hotline hangs up',
      });
    }
    clock = new Date(clock.getTime() + minutes * 60_000);
  }
  const rows = async (subject: string) =>
    store.db.selectFrom('outbox').select(['event_type', 'destination_id', 'payload']).where('subject', '=', subject).orderBy('id').execute();

  beforeAll(async () => {
    store = await createTestStore();
    brandId = await insertBrand(store.db, 'Acme');
    // Four weeks of a quiet brand: two negatives a day among ten mentions.
    const start = clock.getTime() - 28 * 24 * HOUR;
    for (let day = 0; day < 28; day++) {
      for (let i = 0; i < 10; i++) {
        const at = new Date(start + day * 24 * HOUR + (i * 2 + 1) * HOUR + ((day * 11 + i * 7) % 50) * 60_000);
        await insertMention(store.db, {
          brandId, externalId: `bg-${day}-${i}`, sentiment: i < 2 ? 'negative' : 'neutral', author: { name: `p${day}-${i}` }, firstSeenAt: at, publishedAt: at,
        });
      }
    }
  });
  afterAll(async () => {
    await store?.close();
  });

  it('stays quiet on the background, then opens one incident for a burst even when evaluated twice at once', async () => {
    expect(await evaluateBrandCrisis(deps(), brand())).toEqual([]);
    await burst(7, 90);
    const [a, b] = await Promise.all([evaluateBrandCrisis(deps(), brand()), evaluateBrandCrisis(deps(), brand())]);
    expect([...a, ...b]).toEqual(['incident.opened']);
    const { incidents } = await listIncidents(store.db, { limit: 10 });
    expect(incidents).toHaveLength(1);
    expect(incidents[0]).toMatchObject({ status: 'open', brand: 'Acme', scope: 'all' });
    expect(incidents[0]!.explanation).toMatchObject({ top_terms: expect.arrayContaining(['froze', 'hotline']), top_sources: [{ source: 'rss', count: expect.any(Number) }] });
    // Only the channel that hears openings gets it; the ops channel waits for the resolution.
    expect((await rows(`incident:${incidents[0]!.id}`)).map((r) => [r.event_type, r.destination_id])).toEqual([['incident.opened', 'pr']]);
  });

  it('reminds an unacknowledged incident after the repeat interval, counting only messages that pinged', async () => {
    const incident = (await findLatestIncident(store.db, brandId, 'all'))!;
    expect(await repeatUnacknowledged(deps(), [incident])).toBe(0);
    clock = new Date(clock.getTime() + 2 * HOUR + 60_000);
    expect(await repeatUnacknowledged(deps(), [incident])).toBe(1);
    const reminder = (await rows(`incident:${incident.id}`)).at(-1)!;
    expect(reminder).toMatchObject({ event_type: 'incident.opened', destination_id: 'pr', payload: { remind: true } });
    // Once acknowledged, no more reminders.
    await actOnIncident(deps(), incident.id, { kind: 'ack', by: 'user:pr@acme.kz' });
    clock = new Date(clock.getTime() + 3 * HOUR);
    const acked = (await findLatestIncident(store.db, brandId, 'all'))!;
    expect(acked.status).toBe('acknowledged');
    expect(await repeatUnacknowledged(deps(), [acked])).toBe(0);
  });

  it('keeps a person\'s resolution while the same alarm goes on, and tells every channel that hears resolutions', async () => {
    const incident = (await findLatestIncident(store.db, brandId, 'all'))!;
    await burst(3, 10);
    const resolved = await actOnIncident(deps(), incident.id, { kind: 'resolve', by: 'user:pr@acme.kz', note: 'statement posted' });
    expect(resolved).toMatchObject({ ok: true, changed: true, incident: { status: 'resolved', resolvedBy: 'user:pr@acme.kz' } });
    expect((await rows(`incident:${incident.id}`)).filter((r) => r.event_type === 'incident.resolved').map((r) => r.destination_id).sort()).toEqual(['ops', 'pr']);
    clock = new Date(clock.getTime() + 5 * 60_000);
    expect(await evaluateBrandCrisis(deps(), brand())).toEqual([]);
    expect((await findLatestIncident(store.db, brandId, 'all'))).toMatchObject({ id: incident.id, status: 'resolved' });
  });
});
