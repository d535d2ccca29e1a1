import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { hashPassword, verifyPassword } from '../../lib/password.ts';
import { USER_ROLES } from '../../store/schema.ts';
import { createSession, deleteSession, findUserForLogin, recordLoginFailure, recordLoginSuccess, setUserLocale } from '../../store/users.ts';
import { hashSessionToken, newSessionToken, SESSION_COOKIE, sessionTokenOf } from '../auth.ts';
import { describeProblems, sendProblem } from '../errors.ts';
import type { ApiDeps, ZodApp } from '../types.ts';

const SESSION_DAYS = 7;
/** Failed sign-ins in a row that lock an account, and for how long. */
const MAX_FAILURES = 5;
const LOCK_MINUTES = 15;
/** Failed sign-ins one client address may make per window, whatever the accounts. */
const ADDRESS_FAILURES = 20;
const ADDRESS_WINDOW_MS = 15 * 60_000;

const loginBody = z.object({
  email: z.string().min(3).max(320),
  password: z.string().min(1).max(1024),
});

const LOCALES = ['ru', 'en'] as const;

const localeBody = z.object({ locale: z.enum(LOCALES).describe("The person's language in the inbox") });

const sessionSchema = z.object({
  user: z.object({ email: z.string(), role: z.enum(USER_ROLES), locale: z.enum(LOCALES).nullable() }),
  csrf_token: z.string().describe('Send it back in X-CSRF-Token with every change made with this session'),
  expires_at: z.iso.datetime().nullable(),
});

/** Failed sign-ins per client address in a sliding window; kept in this process. */
class AddressThrottle {
  private readonly failures = new Map<string, number[]>();
  /** Milliseconds until the address may try again; 0 when it may now. */
  waitFor(address: string, now: number): number {
    const recent = (this.failures.get(address) ?? []).filter((t) => now - t < ADDRESS_WINDOW_MS);
    this.failures.set(address, recent);
    return recent.length >= ADDRESS_FAILURES ? recent[0]! + ADDRESS_WINDOW_MS - now : 0;
  }
  fail(address: string, now: number): void {
    this.failures.set(address, [...(this.failures.get(address) ?? []), now]);
    if (this.failures.size > 10_000) this.failures.delete(this.failures.keys().next().value!);
  }
}

function cookie(token: string, maxAgeSeconds: number, secure: boolean): string {
  return [`${SESSION_COOKIE}=${token}`, 'Path=/', 'HttpOnly', 'SameSite=Lax', `Max-Age=${maxAgeSeconds}`, ...(secure ? ['Secure'] : [])].join('; ');
}

function tooMany(request: FastifyRequest, reply: FastifyReply, waitMs: number, detail: string) {
  reply.header('retry-after', String(Math.max(1, Math.ceil(waitMs / 1000))));
  return sendProblem(request, reply, 429, detail);
}

/**
 * Signing in with an email and a password: a session cookie (HttpOnly, SameSite=Lax, Secure when earshot is
 * reached over HTTPS) and the CSRF token the browser echoes on writes. Wrong email and wrong password get the
 * same answer, in about the same time. Five failures in a row lock the account for 15 minutes; twenty from one
 * address in 15 minutes hold that address back.
 */
export function registerLoginRoute(app: ZodApp, deps: ApiDeps): void {
  const throttle = new AddressThrottle();
  const secure = deps.publicUrl?.startsWith('https:') ?? false;
  // Spent on unknown emails too, so the answer's timing does not tell which emails exist; made on first use.
  let decoy: Promise<string> | null = null;
  const decoyHash = () => (decoy ??= hashPassword(randomBytes(16).toString('hex')));
  app.post(
    '/session',
    {
      schema: {
        operationId: 'signIn',
        summary: 'Sign in with an email and a password',
        description: 'Sets the session cookie; send the returned csrf_token in X-CSRF-Token with every change. API keys are for machines.',
        tags: ['system'],
        security: [],
        body: loginBody,
        response: { 200: sessionSchema, ...describeProblems(400, 401, 429, 500) },
      },
    },
    async (request, reply) => {
      const now = deps.now();
      const address = request.ip;
      const wait = throttle.waitFor(address, now.getTime());
      if (wait > 0) return tooMany(request, reply, wait, 'Too many failed sign-ins from this address: try again later.');
      const { email, password } = request.body;
      const user = await findUserForLogin(deps.db, email);
      const good = await verifyPassword(password, user?.passwordHash ?? (await decoyHash()));
      if (user && user.lockedUntil && user.lockedUntil > now) {
        return tooMany(request, reply, user.lockedUntil.getTime() - now.getTime(), `Too many failed sign-ins for this account: it is locked for ${LOCK_MINUTES} minutes.`);
      }
      if (!user || !good || user.disabledAt !== null) {
        throttle.fail(address, now.getTime());
        if (user && !good) {
          const lockedUntil = await recordLoginFailure(deps.db, user.id, { maxFailures: MAX_FAILURES, lockUntil: new Date(now.getTime() + LOCK_MINUTES * 60_000) });
          if (lockedUntil && lockedUntil > now) {
            request.log.warn({ user: user.email, address }, 'account locked after failed sign-ins');
            return tooMany(request, reply, lockedUntil.getTime() - now.getTime(), `Too many failed sign-ins for this account: it is locked for ${LOCK_MINUTES} minutes.`);
          }
        }
        return sendProblem(request, reply, 401, 'Wrong email or password.');
      }
      const token = newSessionToken();
      const csrf = randomBytes(24).toString('base64url');
      const expiresAt = new Date(now.getTime() + SESSION_DAYS * 86_400_000);
      await createSession(deps.db, { tokenHash: hashSessionToken(token), userId: user.id, csrfToken: csrf, expiresAt }, now);
      await recordLoginSuccess(deps.db, user.id, now);
      request.log.info({ user: user.email, address }, 'signed in');
      reply.header('set-cookie', cookie(token, SESSION_DAYS * 86_400, secure));
      reply.header('cache-control', 'no-store');
      return { user: { email: user.email, role: user.role, locale: user.locale }, csrf_token: csrf, expires_at: expiresAt.toISOString() };
    },
  );
}

/** Who is signed in (and the CSRF token again, for a page reloaded), and signing out. Behind the auth hook. */
export function registerSessionRoutes(app: ZodApp, deps: ApiDeps): void {
  const secure = deps.publicUrl?.startsWith('https:') ?? false;
  app.get(
    '/session',
    {
      schema: {
        operationId: 'getSession',
        summary: 'The signed-in person and their CSRF token',
        tags: ['system'],
        response: { 200: sessionSchema, ...describeProblems(401, 404, 500) },
      },
    },
    async (request, reply) => {
      // The auth hook found the session already.
      const { name, role, session } = request.principal!;
      if (!session || !role) return sendProblem(request, reply, 404, 'Not signed in: this request was made with an API key.');
      reply.header('cache-control', 'no-store');
      return { user: { email: name, role, locale: session.locale }, csrf_token: session.csrfToken, expires_at: null };
    },
  );
  app.patch(
    '/session',
    {
      // Choosing a language is open to every role, a viewer's included; a browser still echoes the CSRF token.
      config: { scope: 'read' },
      schema: {
        operationId: 'updateSession',
        summary: "Set the signed-in person's language",
        description: 'Kept on the person, so every session of theirs shows it. Answers as GET /session does.',
        tags: ['system'],
        body: localeBody,
        response: { 200: sessionSchema, ...describeProblems(400, 401, 403, 500) },
      },
    },
    async (request, reply) => {
      const { kind, id, session } = request.principal!;
      if (kind !== 'user' || !session) return sendProblem(request, reply, 400, 'Only a signed-in person has a language, not an API key.');
      const user = await setUserLocale(deps.db, id, request.body.locale);
      // The auth hook found the session a moment ago; a user deleted since has no session to answer for.
      if (!user) return sendProblem(request, reply, 401, 'The session has ended: sign in again.');
      reply.header('cache-control', 'no-store');
      return { user: { email: user.email, role: user.role, locale: user.locale }, csrf_token: session.csrfToken, expires_at: null };
    },
  );
  app.delete(
    '/session',
    {
      // Signing out is open to every role, a viewer's included.
      config: { scope: 'read' },
      schema: {
        operationId: 'signOut',
        summary: 'Sign out: the session ends and its cookie is cleared',
        tags: ['system'],
        response: { 204: z.null().describe('Signed out'), ...describeProblems(401, 403, 500) },
      },
    },
    async (request, reply) => {
      const token = sessionTokenOf(request);
      if (token !== null) await deleteSession(deps.db, hashSessionToken(token));
      reply.header('set-cookie', cookie('', 0, secure));
      return reply.code(204).send(null);
    },
  );
}
