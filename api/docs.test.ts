import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../store/connect.ts';
import { createTestStore } from '../tests/helpers/test-store.ts';
import { buildApp } from './app.ts';

interface Operation {
  operationId?: string;
  summary?: string;
  tags?: string[];
  security?: unknown[];
  responses?: Record<string, { content?: Record<string, unknown> }>;
}

describe('OpenAPI and docs', () => {
  let store: Store;
  let app: FastifyInstance;
  beforeAll(async () => {
    store = await createTestStore();
    app = await buildApp({ db: store.db, storeKind: store.kind, version: '1.2.3' });
  });
  afterAll(async () => {
    await app.close();
    await store.close();
  });

  it('serves swagger-ui at /docs without a key', async () => {
    const res = await app.inject({ method: 'GET', url: '/docs' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.body).toContain('Swagger UI');
  });

  it('describes every route with operationId, summary, tags and response schemas', async () => {
    const res = await app.inject({ method: 'GET', url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json() as {
      openapi: string;
      info: { version: string };
      security: unknown[];
      components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> };
      paths: Record<string, Record<string, Operation>>;
    };
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.info.version).toBe('1.2.3');
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.security).toEqual([{ bearerAuth: [] }]);
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/api/v1/api-keys', '/api/v1/api-keys/{id}', '/api/v1/channels/{id}/actions', '/api/v1/deliveries', '/api/v1/deliveries/{id}/replay', '/api/v1/destinations', '/api/v1/events', '/api/v1/helpdesks/{id}/webhook',
      '/api/v1/inbox', '/api/v1/inbox/actions', '/api/v1/incidents', '/api/v1/incidents/{id}', '/api/v1/incidents/{id}/ack', '/api/v1/incidents/{id}/resolve', '/api/v1/mentions',
      '/api/v1/mentions/{id}', '/api/v1/mentions/{id}/actionable', '/api/v1/mentions/{id}/corrections', '/api/v1/mentions/{id}/sentiment', '/api/v1/models', '/api/v1/query/preview',
      '/api/v1/session', '/api/v1/stats/mentions', '/api/v1/stats/response-times', '/api/v1/stats/stories', '/api/v1/targets', '/api/v1/tickets', '/api/v1/tickets/{id}', '/api/v1/tickets/{id}/history', '/api/v1/users', '/api/v1/users/{id}', '/health',
    ]);
    const operationIds = new Set<string>();
    for (const [path, methods] of Object.entries(doc.paths)) {
      const expected = /\/(sentiment|actionable|preview|replay|webhook|actions|ack|resolve)$/.test(path) ? ['post']
        : path === '/api/v1/tickets/{id}' ? ['get', 'patch'] : path === '/api/v1/session' ? ['delete', 'get', 'patch', 'post']
        : path === '/api/v1/users' || path === '/api/v1/api-keys' ? ['get', 'post'] : path === '/api/v1/users/{id}' ? ['patch']
        : path === '/api/v1/api-keys/{id}' ? ['delete'] : ['get'];
      expect(Object.keys(methods).sort(), path).toEqual(expected);
      for (const method of expected) {
        const op = methods[method] as Operation;
        expect(op.operationId, path).toBeTruthy();
        operationIds.add(op.operationId as string);
        expect(op.summary, path).toBeTruthy();
        expect(op.tags?.length, path).toBeGreaterThan(0);
        // Signing out answers 204 with no body, an invitation or a new key 201, the event stream text/event-stream; every other operation a JSON 200.
        const created = (path === '/api/v1/users' || path === '/api/v1/api-keys') && method === 'post';
        const ok = path === '/api/v1/session' && method === 'delete' ? op.responses?.['204'] : path === '/api/v1/events' ? op.responses?.['200']?.content?.['text/event-stream'] : op.responses?.[created ? '201' : '200']?.content?.['application/json'];
        expect(ok, `${method} ${path}`).toBeTruthy();
        expect(op.responses?.['500']?.content?.['application/problem+json'], path).toBeTruthy();
        // The helpdesk webhook is not behind an API key: the helpdesk proves itself (token in the body, signature).
        if (path !== '/health') expect(op.responses?.['401']?.content?.['application/problem+json'], path).toBeTruthy();
      }
    }
    expect(operationIds.size).toBe(38);
    expect(doc.paths['/health']?.get?.security).toEqual([]);
    expect(Object.keys(doc.components.schemas).sort()).toEqual(
      ['ApiKey', 'Author', 'Correction', 'Delivery', 'DestinationHealth', 'DigestEvent', 'InboxItem', 'InboxTicket', 'Incident', 'IncidentEvent', 'Mention', 'Problem', 'QueryMatch', 'QueryPreview', 'Sentiment', 'SentimentModel', 'TargetHealth', 'Ticket', 'TicketChange', 'TicketEvent', 'User'],
    );
    // Outgoing events are published under `webhooks`, with the documents they carry.
    const webhooks = (doc as unknown as { webhooks: Record<string, { post: { requestBody: unknown } }> }).webhooks;
    expect(Object.keys(webhooks).sort()).toEqual([
      'digest', 'incident.escalated', 'incident.opened', 'incident.resolved', 'incident.updated',
      'ticket.created', 'ticket.sla_breached', 'ticket.sla_warning', 'ticket.updated',
    ]);
    expect(JSON.stringify(webhooks['incident.opened']!.post.requestBody)).toContain('#/components/schemas/IncidentEvent');
    expect(JSON.stringify(webhooks['ticket.updated']!.post.requestBody)).toContain('#/components/schemas/TicketEvent');
  });
});
