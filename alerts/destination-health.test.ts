import { describe, expect, it } from 'vitest';
import type { DestinationEpisode } from '../store/destination-health.ts';
import { planDestinationAlerts } from './destination-health.ts';

const NOW = new Date('2026-11-23T09:00:00Z');
const channels = [
  { id: 'ops', events: ['destination.failing'] },
  { id: 'care-tg', events: ['ticket.created', 'destination.failing'] },
  { id: 'quiet', events: ['ticket.created', 'target.failing'] },
];
const episode = (over: Partial<DestinationEpisode> = {}): DestinationEpisode => ({
  kind: 'helpdesk',
  id: 'zendesk-main',
  failingSince: NOW,
  consecutiveFailures: 3,
  lastStatus: 503,
  lastError: 'HTTP 503 from Zendesk',
  ...over,
});

describe('planDestinationAlerts', () => {
  it('tells every channel subscribed to destination.failing, once per episode, with what failed and how', () => {
    const alerts = planDestinationAlerts({ episode: episode(), channels, now: NOW });
    expect(alerts.map((a) => a.message.destinationId)).toEqual(['ops', 'care-tg']);
    expect(alerts[0]).toEqual({
      kind: 'destination_failing',
      brandId: null,
      message: {
        messageId: `msg_destination_helpdesk_zendesk-main_failing_${NOW.getTime()}_channel_ops`,
        destinationKind: 'channel',
        destinationId: 'ops',
        eventType: 'destination.failing',
        ticketId: null,
        payload: {
          type: 'destination.failing',
          timestamp: '2026-11-23T09:00:00.000Z',
          data: {
            destination: { kind: 'helpdesk', id: 'zendesk-main' },
            failing_since: '2026-11-23T09:00:00.000Z',
            consecutive_failures: 3,
            last_status: 503,
            last_error: 'HTTP 503 from Zendesk',
            alert: {
              kind: 'destination_failing',
              summary: 'helpdesk "zendesk-main" is failing: 3 failed delivery attempts in a row, the last: HTTP 503 from Zendesk. See GET /api/v1/destinations.',
            },
          },
        },
      },
    });
    expect(alerts[1]!.message.payload).toBe(alerts[0]!.message.payload);
  });

  it('never sends the alert to the failing channel itself', () => {
    const alerts = planDestinationAlerts({ episode: episode({ kind: 'channel', id: 'care-tg' }), channels, now: NOW });
    expect(alerts.map((a) => a.message.destinationId)).toEqual(['ops']);
    expect(planDestinationAlerts({ episode: episode({ kind: 'channel', id: 'ops' }), channels: channels.slice(0, 1), now: NOW })).toEqual([]);
  });

  it('plans nothing when no channel subscribes', () => {
    expect(planDestinationAlerts({ episode: episode(), channels: channels.slice(2), now: NOW })).toEqual([]);
    expect(planDestinationAlerts({ episode: episode(), channels: [], now: NOW })).toEqual([]);
  });

  it('names the episode by its start: the same episode plans the same ids, a new one new ids', () => {
    const ids = (e: DestinationEpisode) => planDestinationAlerts({ episode: e, channels, now: NOW }).map((a) => a.message.messageId);
    expect(ids(episode({ consecutiveFailures: 4 }))).toEqual(ids(episode()));
    const later = new Date(NOW.getTime() + 3_600_000);
    expect(ids(episode({ failingSince: later }))).toEqual([
      `msg_destination_helpdesk_zendesk-main_failing_${later.getTime()}_channel_ops`,
      `msg_destination_helpdesk_zendesk-main_failing_${later.getTime()}_channel_care-tg`,
    ]);
  });

  it('keeps the error to one short line', () => {
    const long = `connect ECONNREFUSED\n  at ${'x'.repeat(500)}`;
    const [alert] = planDestinationAlerts({ episode: episode({ lastStatus: null, lastError: long }), channels, now: NOW });
    const data = alert!.message.payload.data as { last_status: number | null; last_error: string; alert: { summary: string } };
    expect(data.last_status).toBeNull();
    expect(data.last_error).toHaveLength(200);
    expect(data.last_error).toMatch(/^connect ECONNREFUSED at x+…$/);
    expect(data.alert.summary).toContain('the last: connect ECONNREFUSED at x');
  });

  it('says when the episode began with a delivery that gave up rather than with repeated failures', () => {
    const summary = (e: DestinationEpisode) =>
      (planDestinationAlerts({ episode: e, channels, now: NOW })[0]!.message.payload.data as { alert: { summary: string } }).alert.summary;
    expect(summary(episode({ consecutiveFailures: 1, lastStatus: 410, lastError: 'HTTP 410' }))).toBe(
      'helpdesk "zendesk-main" is failing: a delivery to it gave up (1 failed delivery attempt in a row), the last: HTTP 410. See GET /api/v1/destinations.',
    );
    expect(summary(episode({ consecutiveFailures: 2, lastStatus: 404, lastError: null }))).toContain('gave up (2 failed delivery attempts in a row), the last: HTTP 404.');
    expect(summary(episode({ lastStatus: null, lastError: null }))).toContain('the last: no response.');
  });
});
