import type { SwaggerTransformObject } from '@fastify/swagger';
import { createJsonSchemaTransform, createJsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { INCIDENT_EVENTS, type IncidentEventType } from '../documents/incident.ts';
import { TICKET_EVENT_TYPES, type TicketEventType } from '../documents/ticket.ts';
import { apiSchemaRegistry } from './schemas.ts';

export const transformRouteSchema = createJsonSchemaTransform({ skipList: [], schemaRegistry: apiSchemaRegistry });

const addComponents = createJsonSchemaTransformObject({ schemaRegistry: apiSchemaRegistry });

/**
 * The zod provider emits every registered schema twice (input and output variants); our named schemas
 * are response bodies, so keep only the components the paths actually reach.
 */
export const transformOpenApiDocument: SwaggerTransformObject = (document) => {
  const doc = addComponents(document) as { paths?: unknown; webhooks?: unknown; components?: { schemas?: Record<string, unknown> } };
  doc.webhooks = outgoingEvents();
  const schemas = doc.components?.schemas;
  if (!schemas) return doc as ReturnType<SwaggerTransformObject>;
  const reached = new Set<string>();
  const pending = [...collectRefs(doc.paths), ...collectRefs(doc.webhooks)];
  while (pending.length > 0) {
    const name = pending.pop() as string;
    if (reached.has(name) || !(name in schemas)) continue;
    reached.add(name);
    pending.push(...collectRefs(schemas[name]));
  }
  doc.components = {
    ...doc.components,
    schemas: Object.fromEntries(Object.entries(schemas).filter(([name]) => reached.has(name))),
  };
  return doc as ReturnType<SwaggerTransformObject>;
};

const EVENT_SUMMARIES: Record<TicketEventType | IncidentEventType | 'digest', string> = {
  'ticket.created': 'A ticket opened: to its helpdesks, and to alert channels subscribed to it',
  'ticket.updated': "A ticket changed (status, assignment, a copy joined its story, the brand answered on the source): to its helpdesks",
  'ticket.sla_warning': "80% of a ticket's first-response or resolution time is gone: to its team's channels",
  'ticket.sla_breached': "A ticket's first-response or resolution target was missed: to its team's channels",
  'incident.opened': "Negative talk about a brand spiked: a crisis incident opened, with why (to channels; also sent again, as a reminder, while nobody acknowledges it)",
  'incident.escalated': 'An incident became critical, or stayed critical and unacknowledged too long',
  'incident.updated': "An incident's evidence grew or it was acknowledged: its card is refreshed",
  'incident.resolved': 'An incident resolved: the talk calmed down, or a person resolved it',
  digest: "A channel's daily digest: the last 24 hours per brand, and the incidents",
};

/**
 * What earshot sends to a webhook helpdesk or channel, signed the Standard Webhooks way (webhook-id,
 * webhook-timestamp, webhook-signature). The body is rendered when it is sent, from the ticket or incident as
 * it is then.
 */
function outgoingEvents() {
  const event = (type: keyof typeof EVENT_SUMMARIES, schema: string) => [
    type,
    {
      post: {
        summary: EVENT_SUMMARIES[type],
        operationId: `event.${type}`,
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: `#/components/schemas/${schema}` } } } },
        responses: { '2XX': { description: 'Received; any other answer is retried with backoff' } },
      },
    },
  ];
  return Object.fromEntries([
    ...TICKET_EVENT_TYPES.map((type) => event(type, 'TicketEvent')),
    ...INCIDENT_EVENTS.map((type) => event(type, 'IncidentEvent')),
    event('digest', 'DigestEvent'),
  ]);
}

function collectRefs(node: unknown, found: string[] = []): string[] {
  if (Array.isArray(node)) {
    for (const item of node) collectRefs(item, found);
  } else if (node !== null && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string' && value.startsWith('#/components/schemas/')) {
        found.push(value.slice('#/components/schemas/'.length));
      } else {
        collectRefs(value, found);
      }
    }
  }
  return found;
}
