import type { FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { incidentDocument as incidentSchema, incidentDocumentOf, INCIDENT_STATUSES } from '../../documents/incident.ts';
import type { Logger } from '../../log/logger.ts';
import { respondToPresses } from '../../pipeline/channel-actions.ts';
import { actOnIncident } from '../../pipeline/crisis.ts';
import { findBrand } from '../../store/brands.ts';
import { getIncident, listIncidents } from '../../store/incidents.ts';
import { actorOf } from '../auth.ts';
import { bigIdString, cursorParam, encodeCursor } from '../cursor.ts';
import { describeProblems, sendProblem } from '../errors.ts';
import { pageSchema } from '../schemas.ts';
import type { ApiDeps, ZodApp } from '../types.ts';


const querySchema = z.object({
  status: z.enum([...INCIDENT_STATUSES, 'live']).optional().describe('live: open or acknowledged'),
  brand: z.string().min(1).max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: cursorParam(z.object({ id: bigIdString })).optional(),
});

const idParams = z.object({ id: bigIdString });
const ackBody = z.object({ by: z.string().min(1).max(200).optional().describe('Who acknowledges; default: the API key') }).default({});
const resolveBody = z
  .object({ by: z.string().min(1).max(200).optional(), note: z.string().max(2000).optional().describe('What was done about it') })
  .default({});

function crisisDeps(deps: ApiDeps, request: FastifyRequest) {
  return { db: deps.db, now: deps.now, log: request.log as unknown as Logger, channels: deps.ticketPolicy?.channels ?? [] };
}

export function registerIncidentRoutes(app: ZodApp, deps: ApiDeps): void {
  const publicUrl = deps.publicUrl ?? null;
  app.get(
    '/incidents',
    {
      config: { snapshotCache: true },
      schema: {
        operationId: 'listIncidents',
        summary: 'Crisis incidents, newest first',
        description: 'One incident per brand and crisis: opened by the detector, acknowledged by a person, resolved when the talk calms down.',
        tags: ['incidents'],
        querystring: querySchema,
        response: { 200: pageSchema(incidentSchema), ...describeProblems(400, 401, 403, 500) },
      },
    },
    async (request) => {
      const { status, brand, limit, cursor } = request.query;
      const brandRow = brand === undefined ? undefined : await findBrand(deps.db, brand);
      if (brand !== undefined && !brandRow) return { data: [], next_cursor: null, has_more: false };
      const { incidents, hasMore } = await listIncidents(deps.db, { status, brandId: brandRow?.id, limit, beforeId: cursor?.id });
      const last = incidents.at(-1);
      return { data: incidents.map((i) => incidentDocumentOf(i, publicUrl)), next_cursor: hasMore && last ? encodeCursor({ id: last.id }) : null, has_more: hasMore };
    },
  );

  app.get(
    '/incidents/:id',
    {
      schema: {
        operationId: 'getIncident',
        summary: 'One incident, with why it was opened',
        tags: ['incidents'],
        params: idParams,
        response: { 200: incidentSchema, ...describeProblems(400, 401, 403, 404, 500) },
      },
    },
    async (request, reply) => {
      const row = await getIncident(deps.db, request.params.id);
      if (!row) return sendProblem(request, reply, 404, `No incident ${request.params.id}.`);
      return incidentDocumentOf(row, publicUrl);
    },
  );

  app.post(
    '/incidents/:id/ack',
    {
      schema: {
        operationId: 'acknowledgeIncident',
        summary: 'Acknowledge an incident: no more repeats or escalation',
        description: 'Every channel card of the incident is refreshed to show who acknowledged it. Acknowledging again changes nothing.',
        tags: ['incidents'],
        params: idParams,
        body: ackBody,
        response: { 200: incidentSchema, ...describeProblems(400, 401, 403, 404, 409, 500) },
      },
    },
    async (request, reply) => {
      const result = await actOnIncident(crisisDeps(deps, request), request.params.id, { kind: 'ack', by: actorOf(request, request.body.by) });
      if (!result.ok) return sendProblem(request, reply, 404, `No incident ${request.params.id}.`);
      if (!result.changed && result.incident.status === 'resolved') return sendProblem(request, reply, 409, `Incident ${request.params.id} is resolved already.`);
      return incidentDocumentOf(result.incident, publicUrl);
    },
  );

  app.post(
    '/incidents/:id/resolve',
    {
      schema: {
        operationId: 'resolveIncident',
        summary: 'Resolve an incident by hand, with a note',
        description: 'Its channels are told. The detector opens a new one if the talk spikes again after the cooldown, or reopens this one within it.',
        tags: ['incidents'],
        params: idParams,
        body: resolveBody,
        response: { 200: incidentSchema, ...describeProblems(400, 401, 403, 404, 409, 500) },
      },
    },
    async (request, reply) => {
      const { by, note } = request.body;
      const result = await actOnIncident(crisisDeps(deps, request), request.params.id, { kind: 'resolve', by: actorOf(request, by), note: note ?? null });
      if (!result.ok) return sendProblem(request, reply, 404, `No incident ${request.params.id}.`);
      if (!result.changed) return sendProblem(request, reply, 409, `Incident ${request.params.id} is resolved already.`);
      return incidentDocumentOf(result.incident, publicUrl);
    },
  );
}

/**
 * Where a channel's provider posts button presses (a Telegram webhook with `updates: webhook`, a Slack app's
 * Interactivity Request URL). Not behind an API key: the connector checks the provider's own proof (Telegram's
 * secret token header, Slack's request signature over the raw body).
 */
export async function registerChannelActionRoutes(app: ZodApp, deps: ApiDeps): Promise<void> {
  await app.register(async (hooks) => {
    hooks.removeAllContentTypeParsers();
    hooks.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 1_048_576 }, (_request, body, done) => done(null, body));
    const api = hooks.withTypeProvider<ZodTypeProvider>();
    api.post(
      '/channels/:id/actions',
      {
        schema: {
          operationId: 'receiveChannelAction',
          summary: 'A button was pressed in a Telegram or Slack message',
          description:
            'Telegram: with `updates: webhook`, call setWebhook with this URL and the channel\'s webhookSecret as secret_token. ' +
            'Slack: set the app\'s Interactivity Request URL here; the signing secret proves each request.',
          tags: ['incidents'],
          security: [],
          params: z.object({ id: z.string().min(1).max(200).describe('The channel id of the config') }),
          response: { 200: z.record(z.string(), z.unknown()), ...describeProblems(400, 401, 404, 500) },
        },
      },
      async (request, reply) => {
        const { id } = request.params;
        const destination = deps.destinationOf?.('channel', id);
        if (!destination?.connector.receiveAction || !deps.ticketPolicy) {
          return sendProblem(request, reply, 404, `No channel "${id}" that takes button presses is configured.`);
        }
        const rawBody = typeof request.body === 'string' ? request.body : '';
        const result = destination.connector.receiveAction(destination.config, { headers: request.headers, rawBody }, { now: deps.now() });
        if (!result.ok) return sendProblem(request, reply, result.status, result.error);
        await respondToPresses({ ...crisisDeps(deps, request), policy: deps.ticketPolicy }, destination, result.actions);
        return result.response ?? {};
      },
    );
  });
}
