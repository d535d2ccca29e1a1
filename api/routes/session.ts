import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { hashPassword, verifyPassword } from '../../lib/password.ts';
import { USER_ROLES } from '../../store/schema.ts';
import { createSession, deleteSession, findUserForLogin, recordLoginFailure, recordLoginSuccess, setUserLocale } from '../../store/users.ts';
import { hashSessionToken, newSessionToken, SESSION_COOKIE, sessionTokenOf } from '../auth.ts';
import { FailureThrottle, retryAfterSeconds } from '../auth-throttle.ts';
import { describeProblems, sendProblem } from '../errors.ts';
import type { ApiDeps, ZodApp } from '../types.ts';

const SESSION_DAYS = 7;
/** Failed sign-ins in a row that lock an account, and for how long. */
const MAX_FAILURES = 5;
const LOCK_MINUTES = 15;
/** Failed sign-ins one client address may make per window, whatever the accounts. */
const ADDRESS_FAILURES = 20;
const WINDOW_MS = 15 * 60_000;
/** Client addresses and emails remembered for that, each. */
const THROTTLED_KEYS = 10_000;

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

const ACCOUNT_LOCKED = `Too many failed sign-ins for this account: it is locked for ${LOCK_MINUTES} minutes.`;

function cookie(token: string, maxAgeSeconds: number, secure: boolean): string {
  return [`${SESSION_COOKIE}=${token}`, 'Path=/', 'HttpOnly', 'SameSite=Lax', `Max-Age=${maxAgeSeconds}`, ...(secure ? ['Secure'] : [])].join('; ');
}

function tooMany(request: FastifyRequest, reply: FastifyReply, waitMs: number, detail: string) {
  reply.header('retry-after', retryAfterSeconds(waitMs));
  return sendProblem(request, reply, 429, detail);
}

/**
 * Signing in with an email and a password: a session cookie (HttpOnly, SameSite=Lax, Secure when earshot is
 * reached over HTTPS) and the CSRF token the browser echoes on writes. Wrong email and wrong password get the
 * same answer, in about the same time. Five failures in a row lock the account for 15 minutes (and five for any
 * email, known or not, within 15 minutes hold it back in this process, so an unknown email answers 429 too);
 * twenty from one address in 15 minutes hold that address back. A held address or email gets 429 with
 * Retry-After whatever the password, as a right password guessed while held back must not be told.
 */
export function registerLoginRoute(app: ZodApp, deps: ApiDeps): void {
  const byAddress = new FailureThrottle({ limit: ADDRESS_FAILURES, windowMs: WINDOW_MS, maxKeys: THROTTLED_KEYS });
  // Every email, known or not, so an account held back answers as an unknown email does; the account's own lock
  // (in the database) holds in every process.
  const byEmail = new FailureThrottle({ limit: MAX_FAILURES, windowMs: LOCK_MINUTES * 60_000, maxKeys: THROTTLED_KEYS });
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
      const at = now.getTime();
      const address = request.ip;
      const wait = byAddress.waitFor(address, at);
      if (wait > 0) return tooMany(request, reply, wait, 'Too many failed sign-ins from this address: try again later.');
      const { email, password } = request.body;
      const emailKey = email.toLowerCase();
      const user = await findUserForLogin(deps.db, email);
      const good = await verifyPassword(password, user?.passwordHash ?? (await decoyHash()));
      const heldFor = (lockedUntil: Date | null | undefined) => Math.max(byEmail.waitFor(emailKey, at), lockedUntil && lockedUntil > now ? lockedUntil.getTime() - at : 0);
      const held = heldFor(user?.lockedUntil);
      if (held > 0) return tooMany(request, reply, held, ACCOUNT_LOCKED);
      if (!user || !good || user.disabledAt !== null) {
        byAddress.fail(address, at);
        byEmail.fail(emailKey, at);
        const lockedUntil = user && !good ? await recordLoginFailure(deps.db, user.id, { maxFailures: MAX_FAILURES, lockUntil: new Date(at + LOCK_MINUTES * 60_000) }) : null;
        const nowHeld = heldFor(lockedUntil);
        if (nowHeld > 0) {
          if (user) request.log.warn({ user: user.email, address }, 'account locked after failed sign-ins');
          return tooMany(request, reply, nowHeld, ACCOUNT_LOCKED);
        }
        return sendProblem(request, reply, 401, 'Wrong email or password.');
      }
      byEmail.forget(emailKey);
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
