import { z } from 'zod';
import { listDeliveries, replayDelivery, type Delivery } from '../../store/outbox.ts';
import { OUTBOX_STATUSES } from '../../store/schema.ts';
import { bigIdString, cursorParam, encodeCursor } from '../cursor.ts';
import { describeProblems, sendProblem } from '../errors.ts';
import { formatTimestamp, nullableTimestampSchema, timestampSchema } from '../../documents/fields.ts';
import { apiSchemaRegistry, pageSchema } from '../schemas.ts';
import type { ApiDeps, ZodApp } from '../types.ts';

const deliverySchema = z
  .object({
    id: z.string(),
    message_id: z.string(),
    destination_kind: z.enum(['helpdesk', 'channel']),
    destination_id: z.string(),
    event_type: z.string(),
    ticket_id: z.string().nullable(),
    status: z.enum(OUTBOX_STATUSES),
    attempts: z.number().int(),
    next_attempt_at: timestampSchema,
    last_attempt_at: nullableTimestampSchema,
    last_status: z.number().int().nullable(),
    last_error: z.string().nullable(),
    delivered_at: nullableTimestampSchema,
    created_at: timestampSchema,
  })
  .register(apiSchemaRegistry, { id: 'Delivery' });

const querySchema = z.object({
  status: z.enum(OUTBOX_STATUSES).optional(),
  destination_kind: z.enum(['helpdesk', 'channel']).optional(),
  destination_id: z.string().min(1).max(200).optional().describe('A helpdesk or channel id of the config'),
  event_type: z.string().min(1).max(100).optional().describe('ticket.created, target.failing, …'),
  ticket_id: bigIdString.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: cursorParam(z.object({ id: bigIdString })).optional(),
});

export function registerDeliveryRoutes(app: ZodApp, deps: ApiDeps): void {
  app.get(
    '/deliveries',
    {
      config: { snapshotCache: true },
      schema: {
        operationId: 'listDeliveries',
        summary: 'Outbound deliveries (helpdesk pushes, alerts), newest first',
        description: 'Filter by status=dead to see what gave up after its retries, status=parked for what waits for a destination missing from the config.',
        tags: ['deliveries'],
        querystring: querySchema,
        response: { 200: pageSchema(deliverySchema), ...describeProblems(400, 401, 403, 500) },
      },
    },
    async (request) => {
      const { status, destination_kind, destination_id, event_type, ticket_id, limit, cursor } = request.query;
      const { deliveries, hasMore } = await listDeliveries(deps.db, {
        status, destinationKind: destination_kind, destinationId: destination_id, eventType: event_type, ticketId: ticket_id, limit, beforeId: cursor?.id,
      });
      const last = deliveries.at(-1);
      return {
        data: deliveries.map(formatDelivery),
        next_cursor: hasMore && last ? encodeCursor({ id: last.id }) : null,
        has_more: hasMore,
      };
    },
  );

  app.post(
    '/deliveries/:id/replay',
    {
      schema: {
        operationId: 'replayDelivery',
        summary: 'Send a delivery again from its first attempt',
        description:
          'For a dead delivery once its destination is fixed, a parked one, or a delivered one the destination lost. ' +
          'The message keeps its webhook-id, so a receiver that deduplicates still sees it once. A pending one is already queued: 409.',
        tags: ['deliveries'],
        params: z.object({ id: bigIdString.describe('Delivery id') }),
        response: { 200: deliverySchema, ...describeProblems(400, 401, 403, 404, 409, 500) },
      },
    },
    async (request, reply) => {
      const result = await replayDelivery(deps.db, request.params.id, deps.now());
      if ('missing' in result) return sendProblem(request, reply, 404, `There is no delivery with id ${request.params.id}.`);
      if ('queued' in result) return sendProblem(request, reply, 409, `Delivery ${request.params.id} is already pending: its next attempt is at ${result.queued.nextAttemptAt.toISOString()}.`);
      return formatDelivery(result.replayed);
    },
  );
}

function formatDelivery(d: Delivery): z.output<typeof deliverySchema> {
  return {
    id: d.id,
    message_id: d.messageId,
    destination_kind: d.destinationKind,
    destination_id: d.destinationId,
    event_type: d.eventType,
    ticket_id: d.ticketId,
    status: d.status,
    attempts: d.attempts,
    next_attempt_at: formatTimestamp(d.nextAttemptAt),
    last_attempt_at: formatTimestamp(d.lastAttemptAt),
    last_status: d.lastStatus,
    last_error: d.lastError,
    delivered_at: formatTimestamp(d.deliveredAt),
    created_at: formatTimestamp(d.createdAt),
  };
}
