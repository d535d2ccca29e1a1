import { z } from 'zod';
import { apiKeySchema, formatApiKey } from '../../documents/api-key.ts';
import { API_KEY_SCOPES, createApiKey, getApiKey, listApiKeys, revokeApiKey } from '../../store/api-keys.ts';
import { actorOf } from '../auth.ts';
import { describeProblems, sendProblem } from '../errors.ts';
import { apiSchemaRegistry } from '../schemas.ts';
import type { ApiDeps, ZodApp } from '../types.ts';

const documented = apiKeySchema.register(apiSchemaRegistry, { id: 'ApiKey' });
const createBody = z.object({
  name: z.string().trim().min(1).max(100).refine((n) => !/^\d+$/.test(n), 'a name, not a number (numbers are IDs)'),
  scopes: z.array(z.enum(API_KEY_SCOPES)).min(1).default(['read']),
});

/** The API keys helpdesks and scripts use, managed by a signed-in admin (never by an API key). */
export function registerApiKeyRoutes(app: ZodApp, deps: ApiDeps): void {
  app.get(
    '/api-keys',
    {
      config: { adminOnly: true },
      schema: {
        operationId: 'listApiKeys',
        summary: 'Every API key, with its scopes, last use and revocation; never the key itself (admins only)',
        tags: ['system'],
        response: { 200: z.object({ data: z.array(documented) }), ...describeProblems(401, 403, 500) },
      },
    },
    async () => ({ data: (await listApiKeys(deps.db)).map(formatApiKey) }),
  );

  app.post(
    '/api-keys',
    {
      config: { adminOnly: true },
      schema: {
        operationId: 'createApiKey',
        summary: 'Create an API key: the key is in this answer only (admins only)',
        tags: ['system'],
        body: createBody,
        response: {
          201: z.object({ api_key: documented, key: z.string().describe('Give it to the helpdesk or script; it is not stored and not shown again') }),
          ...describeProblems(400, 401, 403, 500),
        },
      },
    },
    async (request, reply) => {
      const created = await createApiKey(deps.db, { name: request.body.name, scopes: request.body.scopes });
      const summary = (await getApiKey(deps.db, created.id))!;
      request.log.info({ apiKey: created.id, name: created.name, scopes: created.scopes, by: actorOf(request) }, 'API key created');
      reply.header('cache-control', 'no-store');
      return reply.code(201).send({ api_key: formatApiKey(summary), key: created.key });
    },
  );

  app.delete(
    '/api-keys/:id',
    {
      config: { adminOnly: true },
      schema: {
        operationId: 'revokeApiKey',
        summary: 'Revoke an API key: refused from the next request on, in every process; kept in the list as revoked (admins only)',
        tags: ['system'],
        params: z.object({ id: z.coerce.number().int().positive() }),
        response: { 200: documented, ...describeProblems(401, 403, 404, 500) },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      // Revoking a revoked key again changes nothing and answers the same.
      const revoked = await revokeApiKey(deps.db, id, deps.now());
      const key = await getApiKey(deps.db, id);
      if (!key) return sendProblem(request, reply, 404, `No API key ${id}.`);
      if (revoked) request.log.info({ apiKey: id, name: key.name, by: actorOf(request) }, 'API key revoked');
      return formatApiKey(key);
    },
  );
}
