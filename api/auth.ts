import { createHash, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { isSameSecret } from '../lib/secret.ts';
import { findApiKeyInSnapshot, touchApiKey, type ApiKeyScope } from '../store/api-keys.ts';
import type { Db } from '../store/connect.ts';
import type { UserRole } from '../store/schema.ts';
import { findSession, touchSession } from '../store/users.ts';
import { FailureThrottle, retryAfterSeconds } from './auth-throttle.ts';
import { sendProblem } from './errors.ts';

/**
 * Who is calling: a machine with an API key, or a person signed in with a session cookie. `id` is the API key's
 * id or the user's; `name` the key's name or the user's email.
 */
export interface Principal {
  kind: 'apikey' | 'user';
  id: number;
  name: string;
  scopes: ApiKeyScope[];
  role: UserRole | null;
  /** A person's session: the CSRF token their writes echo, and their language. */
  session: { csrfToken: string; locale: 'ru' | 'en' | null } | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /** Scope a route needs; GET and HEAD default to `read`, everything else to `write`. */
    scope?: ApiKeyScope;
    /** Only a signed-in admin: managing people is never a machine's job. */
    adminOnly?: boolean;
  }
}

export const SESSION_COOKIE = 'earshot_session';
export const CSRF_HEADER = 'x-csrf-token';
const LAST_USED_INTERVAL_MS = 60_000;
const BEARER = /^Bearer[ \t]+([^\s]+)[ \t]*$/i;
/**
 * Wrong API keys and session cookies one client address may send per minute before its wrong ones are answered
 * 429, until a minute after the last counted one; how many addresses are remembered.
 */
export const AUTH_FAILURES_PER_ADDRESS = 20;
export const AUTH_FAILURE_WINDOW_MS = 60_000;
export const AUTH_THROTTLED_ADDRESSES = 10_000;

/** What each role may do: a viewer reads, an agent and an admin write. */
const ROLE_SCOPES: Record<UserRole, ApiKeyScope[]> = { admin: ['read', 'write'], agent: ['read', 'write'], viewer: ['read'] };

export function hashSessionToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function newSessionToken(): string {
  return randomBytes(32).toString('base64url');
}

/** The session token of the request's cookie, if it sent one. */
export function sessionTokenOf(request: FastifyRequest): string | null {
  const header = request.headers.cookie;
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) {
      const value = part.slice(eq + 1).trim();
      return /^[A-Za-z0-9_-]{20,100}$/.test(value) ? value : null;
    }
  }
  return null;
}

/**
 * An onRequest hook: a bearer API key, or a session cookie (with the CSRF token echoed in X-CSRF-Token on every
 * write, so another site cannot make a signed-in browser change anything) → 401 when neither is valid, 403
 * when the key's scope or the person's role does not allow the request.
 *
 * A wrong key or cookie counts against the client's address (`request.ip`: the proxy's, as earshot does not
 * trust X-Forwarded-For); past AUTH_FAILURES_PER_ADDRESS a minute, the address's wrong ones are answered 429 with
 * Retry-After. Its valid ones are still checked and pass: keys and session tokens are 256 random bits, so
 * answering them tells a guesser nothing, and a good client behind the same address is not held back.
 */
export function createAuthHook(deps: { db: Db; now: () => Date }): onRequestAsyncHookHandler {
  const throttle = new FailureThrottle({ limit: AUTH_FAILURES_PER_ADDRESS, windowMs: AUTH_FAILURE_WINDOW_MS, maxKeys: AUTH_THROTTLED_ADDRESSES });
  function refused(request: FastifyRequest, reply: FastifyReply, challenge: string, detail: string) {
    const now = deps.now().getTime();
    const wait = throttle.waitFor(request.ip, now);
    if (wait > 0) {
      reply.header('retry-after', retryAfterSeconds(wait));
      return sendProblem(request, reply, 429, 'Too many failed authentications from this address: try again later.');
    }
    throttle.fail(request.ip, now);
    return unauthorized(request, reply, challenge, detail);
  }
  return async function authenticate(request: FastifyRequest, reply: FastifyReply) {
    const required = request.routeOptions.config.scope ?? (isReadMethod(request.method) ? 'read' : 'write');
    const header = request.headers.authorization;
    const token = header ? null : sessionTokenOf(request);
    if (token !== null) {
      const now = deps.now();
      const tokenHash = hashSessionToken(token);
      const session = await findSession(deps.db, tokenHash, now);
      if (!session) return refused(request, reply, 'Bearer realm="earshot"', 'The session has ended: sign in again.');
      if (!isReadMethod(request.method)) {
        const echoed = request.headers[CSRF_HEADER];
        if (typeof echoed !== 'string' || !isSameSecret(echoed, session.csrfToken)) {
          return sendProblem(request, reply, 403, `A change from the browser needs the session's CSRF token in ${CSRF_HEADER}.`);
        }
      }
      const scopes = ROLE_SCOPES[session.role];
      if (!scopes.includes(required) || (request.routeOptions.config.adminOnly && session.role !== 'admin')) {
        return sendProblem(request, reply, 403, `A ${session.role} cannot do this.`);
      }
      if (now.getTime() - session.lastSeenAt.getTime() >= LAST_USED_INTERVAL_MS) await touchSession(deps.db, tokenHash, now);
      request.principal = { kind: 'user', id: session.id, name: session.email, scopes, role: session.role, session: { csrfToken: session.csrfToken, locale: session.locale } };
      return;
    }
    if (!header) {
      return unauthorized(request, reply, 'Bearer realm="earshot"', 'An API key is required: send Authorization: Bearer <key>, or sign in.');
    }
    const match = BEARER.exec(header);
    const found = match?.[1] ? await findApiKeyInSnapshot(deps.db, match[1]) : null;
    const key = found?.key ?? null;
    if (!key) {
      return refused(request, reply, 'Bearer realm="earshot", error="invalid_token"', 'The API key is unknown or revoked.');
    }
    if (!key.scopes.includes(required)) {
      return sendProblem(request, reply, 403, `This API key lacks the "${required}" scope.`);
    }
    if (request.routeOptions.config.adminOnly) return sendProblem(request, reply, 403, 'Only a signed-in admin can do this, not an API key.');
    const now = deps.now();
    if (!key.lastUsedAt || now.getTime() - key.lastUsedAt.getTime() >= LAST_USED_INTERVAL_MS) {
      await touchApiKey(deps.db, key.id, now, LAST_USED_INTERVAL_MS);
    } else {
      // Nothing written since the key was read: the answer cache can use the snapshot it was read in.
      request.storeSnapshot = found!.snapshot ?? undefined;
    }
    request.principal = { kind: 'apikey', id: key.id, name: key.name, scopes: key.scopes, role: null, session: null };
  };
}

/**
 * Who a write is recorded as: a signed-in person is always `user:<email>`; a machine is who it says (`by`, the
 * person behind a helpdesk) or `apikey:<name>`.
 */
export function actorOf(request: FastifyRequest, by?: string | undefined): string {
  const p = request.principal;
  if (p?.kind === 'user') return `user:${p.name}`;
  return by ?? `apikey:${p?.name ?? 'unknown'}`;
}

/**
 * The namespace of a caller's Idempotency-Keys: an API key's id, or a person's id negated, so a key and a
 * person never share one.
 */
export function idempotencyOwnerOf(principal: Principal): number {
  return principal.kind === 'user' ? -principal.id : principal.id;
}

function unauthorized(request: FastifyRequest, reply: FastifyReply, challenge: string, detail: string) {
  reply.header('www-authenticate', challenge);
  return sendProblem(request, reply, 401, detail);
}

function isReadMethod(method: string): boolean {
  return method === 'GET' || method === 'HEAD';
}
