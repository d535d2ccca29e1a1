import { z } from 'zod';
import { formatTimestamp, nullableTimestampSchema, timestampSchema } from '../../documents/fields.ts';
import { generatePassword, hashPassword } from '../../lib/password.ts';
import { USER_ROLES } from '../../store/schema.ts';
import { createUser, listUsers, updateUser, UserExistsError, type UserSummary } from '../../store/users.ts';
import { actorOf } from '../auth.ts';
import { describeProblems, sendProblem } from '../errors.ts';
import { apiSchemaRegistry } from '../schemas.ts';
import type { ApiDeps, ZodApp } from '../types.ts';

const userSchema = z
  .object({
    id: z.number().int(),
    email: z.string(),
    role: z.enum(USER_ROLES),
    locale: z.enum(['ru', 'en']).nullable(),
    created_at: timestampSchema,
    created_by: z.string().describe('"cli", or "user:<email>" of the admin who invited them'),
    disabled_at: nullableTimestampSchema,
    last_login_at: nullableTimestampSchema,
  })
  .register(apiSchemaRegistry, { id: 'User' });

function formatUser(u: UserSummary): z.output<typeof userSchema> {
  return {
    id: u.id, email: u.email, role: u.role, locale: u.locale, created_at: formatTimestamp(u.createdAt), created_by: u.createdBy,
    disabled_at: formatTimestamp(u.disabledAt), last_login_at: formatTimestamp(u.lastLoginAt),
  };
}

const inviteBody = z.object({ email: z.email(), role: z.enum(USER_ROLES), locale: z.enum(['ru', 'en']).optional() });
const changeBody = z
  .object({ role: z.enum(USER_ROLES).optional(), disabled: z.boolean().optional().describe('true: signed out everywhere and kept out; false: let back in') })
  .refine((b) => b.role !== undefined || b.disabled !== undefined, 'give role or disabled');

/** The people who sign in, managed by a signed-in admin (never by an API key). */
export function registerUserRoutes(app: ZodApp, deps: ApiDeps): void {
  app.get(
    '/users',
    {
      config: { adminOnly: true },
      schema: {
        operationId: 'listUsers',
        summary: 'The people who sign in, with their role and last sign-in (admins only)',
        tags: ['system'],
        response: { 200: z.object({ data: z.array(userSchema) }), ...describeProblems(401, 403, 500) },
      },
    },
    async () => ({ data: (await listUsers(deps.db)).map(formatUser) }),
  );

  app.post(
    '/users',
    {
      config: { adminOnly: true },
      schema: {
        operationId: 'inviteUser',
        summary: 'Invite a person: a user with a generated password, shown once in the answer (admins only)',
        tags: ['system'],
        body: inviteBody,
        response: {
          201: z.object({ user: userSchema, password: z.string().describe('Give it to the person; it is not stored and not shown again') }),
          ...describeProblems(400, 401, 403, 409, 500),
        },
      },
    },
    async (request, reply) => {
      const { email, role, locale } = request.body;
      const password = generatePassword();
      try {
        const user = await createUser(deps.db, { email, role, locale: locale ?? null, passwordHash: await hashPassword(password), createdBy: actorOf(request) }, deps.now());
        request.log.info({ user: email, role, by: actorOf(request) }, 'user invited');
        reply.header('cache-control', 'no-store');
        return reply.code(201).send({ user: formatUser(user), password });
      } catch (err) {
        if (err instanceof UserExistsError) return sendProblem(request, reply, 409, err.message);
        throw err;
      }
    },
  );

  app.patch(
    '/users/:id',
    {
      config: { adminOnly: true },
      schema: {
        operationId: 'changeUser',
        summary: "Change a person's role, or disable them (signed out at once) or let them back in (admins only)",
        tags: ['system'],
        params: z.object({ id: z.coerce.number().int().positive() }),
        body: changeBody,
        response: { 200: userSchema, ...describeProblems(400, 401, 403, 404, 409, 500) },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const { role, disabled } = request.body;
      // An admin who disabled or demoted themselves could leave nobody to undo it.
      if (id === request.principal!.id && (disabled === true || (role !== undefined && role !== 'admin'))) {
        return sendProblem(request, reply, 409, 'You cannot disable yourself or give up your own admin role: ask another admin.');
      }
      const user = await updateUser(deps.db, { id }, { ...(role !== undefined ? { role } : {}), ...(disabled !== undefined ? { disabledAt: disabled ? deps.now() : null } : {}) });
      if (!user) return sendProblem(request, reply, 404, `No user ${id}.`);
      request.log.info({ user: user.email, role, disabled, by: actorOf(request) }, 'user changed');
      return formatUser(user);
    },
  );
}
