import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slackConfigSchema, slackConnector } from '../delivery/connectors/slack.ts';
import type { Destination } from '../delivery/outbox.ts';
import { basicTicketPolicy } from '../pipeline/ticket-policy.ts';
import type { Store } from '../store/connect.ts';
import { insertIncident } from '../store/incidents.ts';
import { blockActionsPayload, signSlackRequest, slackInteractionBody } from '../tests/helpers/slack-fake.ts';
import { createTestStore } from '../tests/helpers/test-store.ts';
import { buildApp } from './app.ts';
import { createBearer, insertBrand } from './test-seed.ts';

const NOW = new Date('2026-12-03T08:00:00Z');
const SIGNING_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';

const WHY = {
  summary: 'negative in 6 h: 14 vs 1.2 expected (p=3e-7), 9 authors', rules: ['nb_tail'], regime: 'low', window_minutes: 360,
  observed: 14, expected: 1.2, lift: 11.7, p_value: 3e-7, z: null, authors: 9, reach: 52_000,
};

describe('incidents in the API', () => {
  let store: Store;
  let app: FastifyInstance;
  let headers: { authorization: string };
  let incidentId: string;
  const slack: Destination = {
    connector: slackConnector,
    config: slackConfigSchema.parse({ id: 'care', type: 'slack', url: 'https://hooks.slack.com/services/T0/B0/X', signingSecret: SIGNING_SECRET }),
  };

  beforeAll(async () => {
    store = await createTestStore();
    const policy = basicTicketPolicy({ defaultTeam: 'support', channels: [{ id: 'care', events: ['incident.updated', 'incident.resolved'] }] });
    app = await buildApp({
      db: store.db, storeKind: store.kind, now: () => NOW, ticketPolicy: policy, publicUrl: 'https://earshot.acme.kz',
      destinationOf: (kind, id) => (kind === 'channel' && id === 'care' ? slack : undefined),
    });
    headers = await createBearer(store.db, ['read', 'write']);
    const brandId = await insertBrand(store.db, 'Acme');
    const state = {
      status: 'open', severity: 'critical', openedAt: NOW.getTime() - 3_600_000, escalatedAt: null, escalationReason: null, acknowledgedAt: null,
      resolvedAt: null, calmSince: null, peakObserved: 14, peakExpected: 1.2, notifiedObserved: 14, lastEventAt: NOW.getTime() - 3_600_000, why: WHY,
    };
    incidentId = (await insertIncident(store.db, {
      brandId, scope: 'all', status: 'open', severity: 'critical', openedAt: new Date(state.openedAt), escalatedAt: null, escalationReason: null,
      acknowledgedAt: null, resolvedAt: null, state,
      explanation: { why: WHY, peak: { observed: 14, expected: 1.2 }, top_terms: ['blocked'], top_sources: [{ source: '2gis', count: 9 }], languages: [{ language: 'ru', count: 14 }], top_posts: [] },
    }, NOW))!;
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  it('lists and shows incidents with why they were opened', async () => {
    const list = await app.inject({ method: 'GET', url: '/api/v1/incidents?status=live', headers });
    expect(list.statusCode, list.body).toBe(200);
    expect(list.json().data).toEqual([
      expect.objectContaining({
        id: incidentId, brand: 'Acme', status: 'open', severity: 'critical', why: expect.objectContaining({ observed: 14, p_value: 3e-7 }),
        top_sources: [{ source: '2gis', count: 9 }], url: `https://earshot.acme.kz/api/v1/incidents/${incidentId}`,
      }),
    ]);
    expect((await app.inject({ method: 'GET', url: '/api/v1/incidents?status=resolved', headers })).json().data).toEqual([]);
    expect((await app.inject({ method: 'GET', url: '/api/v1/incidents?brand=Nobody', headers })).json().data).toEqual([]);
    expect((await app.inject({ method: 'GET', url: `/api/v1/incidents/${incidentId}`, headers })).json()).toMatchObject({ id: incidentId });
    const missing = await app.inject({ method: 'GET', url: '/api/v1/incidents/999', headers });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toContain('application/problem+json');
    expect((await app.inject({ method: 'GET', url: '/api/v1/incidents' })).statusCode).toBe(401);
  });

  it('acknowledges from a signed Slack button press, refuses a forged one, and refreshes the channel card', async () => {
    const body = slackInteractionBody(blockActionsPayload({ values: [`ack|incident:${incidentId}`], user: { id: 'U123', username: 'dana' }, responseUrl: null }));
    const forged = await app.inject({
      method: 'POST', url: '/api/v1/channels/care/actions', payload: body,
      headers: signSlackRequest('another-secret-0000000000000000', body, NOW).headers,
    });
    expect(forged.statusCode).toBe(401);
    expect(forged.body).not.toContain(SIGNING_SECRET);
    const pressed = await app.inject({
      method: 'POST', url: '/api/v1/channels/care/actions', payload: body,
      headers: signSlackRequest(SIGNING_SECRET, body, NOW).headers,
    });
    expect(pressed.statusCode, pressed.body).toBe(200);
    const shown = (await app.inject({ method: 'GET', url: `/api/v1/incidents/${incidentId}`, headers })).json();
    expect(shown).toMatchObject({ status: 'acknowledged', acknowledged_by: 'slack:dana', acknowledged_at: NOW.toISOString() });
    const queued = await store.db.selectFrom('outbox').select(['event_type', 'destination_id', 'subject']).execute();
    expect(queued).toEqual([{ event_type: 'incident.updated', destination_id: 'care', subject: `incident:${incidentId}` }]);
    // Acknowledging again changes nothing and queues nothing.
    const again = await app.inject({ method: 'POST', url: `/api/v1/incidents/${incidentId}/ack`, headers, payload: {} });
    expect(again.statusCode).toBe(200);
    expect(await store.db.selectFrom('outbox').select('id').execute()).toHaveLength(1);
  });

  it('resolves by hand with a note, once', async () => {
    const res = await app.inject({ method: 'POST', url: `/api/v1/incidents/${incidentId}/resolve`, headers, payload: { note: 'card limits restored, statement posted' } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ status: 'resolved', resolved_by: 'apikey:test read+write', resolution_note: 'card limits restored, statement posted' });
    const twice = await app.inject({ method: 'POST', url: `/api/v1/incidents/${incidentId}/resolve`, headers, payload: {} });
    expect(twice.statusCode).toBe(409);
    expect((await app.inject({ method: 'POST', url: `/api/v1/incidents/${incidentId}/ack`, headers, payload: {} })).statusCode).toBe(409);
    const events = await store.db.selectFrom('outbox').select('event_type').orderBy('id').execute();
    expect(events.map((e) => e.event_type)).toEqual(['incident.updated', 'incident.resolved']);
  });
});
