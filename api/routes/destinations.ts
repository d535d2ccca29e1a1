import { z } from 'zod';
import { listDestinationHealth, type DestinationHealth } from '../../store/destination-health.ts';
import { describeProblems } from '../errors.ts';
import { formatTimestamp, nullableTimestampSchema } from '../../documents/fields.ts';
import { apiSchemaRegistry } from '../schemas.ts';
import type { ApiDeps, ZodApp } from '../types.ts';

const destinationSchema = z
  .object({
    kind: z.enum(['helpdesk', 'channel']),
    id: z.string().describe('The helpdesk or channel id of the config'),
    configured: z.boolean().describe('In the config now; false: its deliveries are parked until it is back'),
    state: z
      .enum(['ok', 'failing', 'unused'])
      .describe('failing: 3 failed attempts in a row, or a delivery that went dead, since its last success; unused: never tried yet'),
    consecutive_failures: z.number().int(),
    failing_since: nullableTimestampSchema.describe('When the current failing episode began; null when not failing'),
    last_success_at: nullableTimestampSchema,
    last_failure_at: nullableTimestampSchema,
    last_status: z.number().int().nullable().describe("The last attempt's HTTP status; null: no response"),
    last_error: z.string().nullable().describe("The last attempt's error; null after a success"),
    pending: z.number().int().describe('Deliveries waiting for their next attempt'),
    parked: z.number().int().describe('Deliveries waiting for the destination to be back in the config'),
    dead_24h: z.number().int().describe('Deliveries that gave up in the last 24 hours'),
    oldest_pending_at: nullableTimestampSchema.describe('When the oldest pending delivery was queued'),
  })
  .register(apiSchemaRegistry, { id: 'DestinationHealth' });

export function registerDestinationRoutes(app: ZodApp, deps: ApiDeps): void {
  app.get(
    '/destinations',
    {
      schema: {
        operationId: 'listDestinations',
        summary: 'Delivery health of every helpdesk and alert channel',
        description:
          'Every destination that was tried or has deliveries waiting, by kind and id. See GET /deliveries?destination_id=… for its rows.',
        tags: ['deliveries'],
        response: { 200: z.object({ data: z.array(destinationSchema) }), ...describeProblems(401, 403, 500) },
      },
    },
    async () => {
      const known = await listDestinationHealth(deps.db, deps.now());
      // Configured but never tried, with nothing queued: listed too, so a new helpdesk shows up at once.
      const configured = [
        ...(deps.ticketPolicy?.helpdesks ?? []).map(({ id }) => ({ kind: 'helpdesk' as const, id })),
        ...(deps.ticketPolicy?.channels ?? []).map(({ id }) => ({ kind: 'channel' as const, id })),
      ].filter((c) => !known.some((d) => d.kind === c.kind && d.id === c.id));
      const destinations = [...known, ...configured.map(unusedDestination)]
        .sort((a, b) => (a.kind === b.kind ? (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) : a.kind < b.kind ? -1 : 1));
      return { data: destinations.map((d) => formatDestination(d, deps.destinationOf?.(d.kind, d.id) !== undefined)) };
    },
  );
}

function unusedDestination(d: { kind: 'helpdesk' | 'channel'; id: string }): DestinationHealth {
  return {
    ...d, state: 'unused', consecutiveFailures: 0, failingSince: null, lastSuccessAt: null, lastFailureAt: null,
    lastStatus: null, lastError: null, pending: 0, parked: 0, dead24h: 0, oldestPendingAt: null,
  };
}

function formatDestination(d: DestinationHealth, configured: boolean): z.output<typeof destinationSchema> {
  return {
    kind: d.kind,
    id: d.id,
    configured,
    state: d.state,
    consecutive_failures: d.consecutiveFailures,
    failing_since: formatTimestamp(d.failingSince),
    last_success_at: formatTimestamp(d.lastSuccessAt),
    last_failure_at: formatTimestamp(d.lastFailureAt),
    last_status: d.lastStatus,
    last_error: d.lastError,
    pending: d.pending,
    parked: d.parked,
    dead_24h: d.dead24h,
    oldest_pending_at: formatTimestamp(d.oldestPendingAt),
  };
}
