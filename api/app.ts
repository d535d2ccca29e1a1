import { readFileSync } from 'node:fs';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { secretSafeOptions } from '../log/logger.ts';
import { redactSecrets } from '../log/redact.ts';
import type { Db } from '../store/connect.ts';
import { createAuthHook } from './auth.ts';
import { answerClientError, installProblemHandlers, MAX_PARAM_LENGTH, sendFrameworkProblem } from './errors.ts';
import { installInputTextChecks } from './input-text.ts';
import { AnswerCache, installAnswerCache } from './answer-cache.ts';
import { installEtags } from './etag.ts';
import { answerSerializer } from './serializer.ts';
import { registerWebUi } from './web-ui.ts';
import { transformOpenApiDocument, transformRouteSchema } from './openapi.ts';
import { registerApiKeyRoutes } from './routes/api-keys.ts';
import { registerDashboardRoutes } from './routes/dashboard.ts';
import { registerDeliveryRoutes } from './routes/deliveries.ts';
import { registerDestinationRoutes } from './routes/destinations.ts';
import { registerHealthRoutes } from './routes/health.ts';
import { registerEventRoutes } from './routes/events.ts';
import { registerHelpdeskHookRoutes } from './routes/helpdesk-hooks.ts';
import { registerInboxRoutes } from './routes/inbox.ts';
import { registerChannelActionRoutes, registerIncidentRoutes } from './routes/incidents.ts';
import { registerMentionRoutes } from './routes/mentions.ts';
import { registerModelRoutes } from './routes/models.ts';
import { registerQueryRoutes } from './routes/query.ts';
import { registerLoginRoute, registerSessionRoutes } from './routes/session.ts';
import { registerStatsRoutes } from './routes/stats.ts';
import { registerTargetRoutes } from './routes/targets.ts';
import { registerUserRoutes } from './routes/users.ts';
import { registerTicketRoutes } from './routes/tickets.ts';
import type { TicketPolicy } from '../pipeline/ticket-policy.ts';
import type { ApiDeps } from './types.ts';

export interface BuildAppDeps {
  db: Db;
  storeKind: 'pglite' | 'postgres';
  now?: () => Date;
  logger?: boolean | object;
  version?: string;
  ticketPolicy?: TicketPolicy;
  destinationOf?: ApiDeps['destinationOf'];
  publicUrl?: string | null;
  /** Compiled brand queries for mention highlights; absent: compiled from the stored brands. */
  brandQueries?: ApiDeps['brandQueries'];
  /** How often each GET /events stream reads the store; default 3000. */
  eventsPollMs?: number;
  /** The built web UI (ui/dist) to serve at /; absent: the API alone. */
  uiDir?: string | null;
  /**
   * Check every answer against its route's schema before sending it (answerSerializer): the default, for tests;
   * the server passes false.
   */
  checkAnswers?: boolean;
  /** How many bytes of answers the snapshot cache keeps (answer-cache.ts); default 32 MiB, 0: none. */
  answerCacheBytes?: number;
}

const ANSWER_CACHE_BYTES = 32 * 1024 * 1024;

/** Headers that carry credentials: censored wherever a log object holds headers. */
const SECRET_HEADERS = ['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key', 'x-auth-token', 'x-csrf-token'];
const REDACTED_PATHS = ['req.headers', 'request.headers', 'res.headers', 'reply.headers', 'headers'].flatMap((at) =>
  SECRET_HEADERS.map((name) => `${at}["${name}"]`),
);

/**
 * What a request log line says of the request: no headers, and the URL with its credentials redacted (a key
 * sent as ?api_key= is refused, but must not be kept in the log either).
 */
function requestForLog(request: FastifyRequest) {
  return { method: request.method, url: typeof request.url === 'string' ? redactSecrets(request.url) : undefined, host: request.host, remoteAddress: request.ip, remotePort: request.socket?.remotePort };
}

export async function buildApp(deps: BuildAppDeps): Promise<FastifyInstance> {
  const apiDeps: ApiDeps = {
    db: deps.db,
    ticketPolicy: deps.ticketPolicy ?? null,
    destinationOf: deps.destinationOf,
    storeKind: deps.storeKind,
    now: deps.now ?? (() => new Date()),
    version: deps.version ?? readPackageVersion(),
    publicUrl: deps.publicUrl ?? null,
    brandQueries: deps.brandQueries,
    eventsPollMs: deps.eventsPollMs ?? 3000,
  };
  const app = Fastify({
    logger: buildLoggerOptions(deps.logger),
    // What is refused before routing is a problem+json too (errors.ts).
    frameworkErrors: sendFrameworkProblem,
    clientErrorHandler: answerClientError,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(answerSerializer(deps.checkAnswers ?? true));
  app.decorateRequest('principal', null);
  installProblemHandlers(app);
  installInputTextChecks(app);
  const answerCacheBytes = deps.answerCacheBytes ?? ANSWER_CACHE_BYTES;
  if (answerCacheBytes > 0) installAnswerCache(app, deps.db, new AnswerCache(answerCacheBytes), apiDeps.now);
  installEtags(app);

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'earshot API',
        description: 'Mentions, the ticket change feed for helpdesks, target health and deliveries.',
        version: apiDeps.version,
      },
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'API key: esk_…' } },
      },
      security: [{ bearerAuth: [] }],
      tags: [
        { name: 'system' },
        { name: 'inbox' },
        { name: 'mentions' },
        { name: 'tickets' },
        { name: 'targets' },
        { name: 'deliveries' },
        { name: 'incidents' },
        { name: 'stats' },
        { name: 'models' },
      ],
    },
    transform: transformRouteSchema,
    transformObject: transformOpenApiDocument,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });

  const zodApp = app.withTypeProvider<ZodTypeProvider>();
  registerHealthRoutes(zodApp, apiDeps);
  await zodApp.register(async (api) => registerHelpdeskHookRoutes(api.withTypeProvider<ZodTypeProvider>(), apiDeps), { prefix: '/api/v1' });
  await zodApp.register(async (api) => registerChannelActionRoutes(api.withTypeProvider<ZodTypeProvider>(), apiDeps), { prefix: '/api/v1' });
  await zodApp.register(async (api) => registerLoginRoute(api.withTypeProvider<ZodTypeProvider>(), apiDeps), { prefix: '/api/v1' });
  await zodApp.register(
    async (api) => {
      api.addHook('onRequest', createAuthHook(apiDeps));
      const zodApi = api.withTypeProvider<ZodTypeProvider>();
      registerMentionRoutes(zodApi, apiDeps);
      registerInboxRoutes(zodApi, apiDeps);
      registerEventRoutes(zodApi, apiDeps);
      registerModelRoutes(zodApi, apiDeps);
      registerQueryRoutes(zodApi, apiDeps);
      registerTicketRoutes(zodApi, apiDeps);
      registerTargetRoutes(zodApi, apiDeps);
      registerDeliveryRoutes(zodApi, apiDeps);
      registerDestinationRoutes(zodApi, apiDeps);
      registerStatsRoutes(zodApi, apiDeps);
      registerDashboardRoutes(zodApi, apiDeps);
      registerIncidentRoutes(zodApi, apiDeps);
      registerSessionRoutes(zodApi, apiDeps);
      registerUserRoutes(zodApi, apiDeps);
      registerApiKeyRoutes(zodApi, apiDeps);
    },
    { prefix: '/api/v1' },
  );
  if (deps.uiDir) await registerWebUi(app, deps.uiDir);
  // Not ready()-ed: inject() and listen() make it ready.
  return app;
}

function buildLoggerOptions(logger: boolean | object | undefined): boolean | object {
  if (!logger) return false;
  const base = logger === true ? {} : (logger as { redact?: string[] | { paths?: string[]; censor?: unknown }; serializers?: object });
  const callerPaths = Array.isArray(base.redact) ? base.redact : (base.redact?.paths ?? []);
  const censor = Array.isArray(base.redact) ? undefined : base.redact?.censor;
  // Keys must never reach a log line, whatever the caller's logger options say.
  return {
    ...base,
    ...secretSafeOptions,
    serializers: { ...base.serializers, ...secretSafeOptions.serializers, req: requestForLog },
    redact: { paths: [...new Set([...REDACTED_PATHS, ...callerPaths])], censor: censor ?? '[redacted]' },
  };
}

function readPackageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? '0.0.0';
}
