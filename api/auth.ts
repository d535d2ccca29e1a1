import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { findApiKey, touchApiKey, type ApiKeyScope } from '../store/api-keys.ts';
import type { Db } from '../store/connect.ts';
import { sendProblem } from './errors.ts';

export interface AuthenticatedKey {
  id: number;
  name: string;
  scopes: ApiKeyScope[];
}

declare module 'fastify' {
  interface FastifyRequest {
    apiKey: AuthenticatedKey | null;
  }
  interface FastifyContextConfig {
    /** Scope a route needs; GET and HEAD default to `read`, everything else to `write`. */
    scope?: ApiKeyScope;
  }
}

const LAST_USED_INTERVAL_MS = 60_000;
const BEARER = /^Bearer[ \t]+([^\s]+)[ \t]*$/i;

/** An onRequest hook: bearer key → 401 when missing or unknown, 403 when the scope is missing. */
export function createAuthHook(deps: { db: Db; now: () => Date }): onRequestAsyncHookHandler {
  return async function authenticate(request: FastifyRequest, reply: FastifyReply) {
    const header = request.headers.authorization;
    if (!header) {
      return unauthorized(request, reply, 'Bearer realm="earshot"', 'An API key is required: send Authorization: Bearer <key>.');
    }
    const match = BEARER.exec(header);
    const key = match?.[1] ? await findApiKey(deps.db, match[1]) : null;
    if (!key) {
      return unauthorized(request, reply, 'Bearer realm="earshot", error="invalid_token"', 'The API key is unknown or revoked.');
    }
    const required = request.routeOptions.config.scope ?? (isReadMethod(request.method) ? 'read' : 'write');
    if (!key.scopes.includes(required)) {
      return sendProblem(request, reply, 403, `This API key lacks the "${required}" scope.`);
    }
    const now = deps.now();
    if (!key.lastUsedAt || now.getTime() - key.lastUsedAt.getTime() >= LAST_USED_INTERVAL_MS) {
      await touchApiKey(deps.db, key.id, now, LAST_USED_INTERVAL_MS);
    }
    request.apiKey = { id: key.id, name: key.name, scopes: key.scopes };
  };
}

function unauthorized(request: FastifyRequest, reply: FastifyReply, challenge: string, detail: string) {
  reply.header('www-authenticate', challenge);
  return sendProblem(request, reply, 401, detail);
}

function isReadMethod(method: string): boolean {
  return method === 'GET' || method === 'HEAD';
}
