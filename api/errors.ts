import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { apiSchemaRegistry } from './schemas.ts';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string(),
    errors: z
      .array(z.object({ path: z.string(), message: z.string() }))
      .optional()
      .describe('Validation failures, one per offending field'),
  })
  .register(apiSchemaRegistry, { id: 'Problem', description: 'RFC 9457 problem details' });

export type Problem = z.infer<typeof problemSchema>;

/** OpenAPI/serializer entries for problem responses of the given statuses. */
export function describeProblems<const S extends readonly number[]>(...statuses: S) {
  const entry = (status: number) => ({
    description: STATUS_CODES[status] ?? 'Error',
    content: { [PROBLEM_CONTENT_TYPE]: { schema: problemSchema } },
  });
  return Object.fromEntries(statuses.map((status) => [status, entry(status)])) as {
    [K in S[number]]: ReturnType<typeof entry>;
  };
}

export function buildProblem(
  request: FastifyRequest,
  status: number,
  detail: string,
  errors?: Problem['errors'],
): Problem {
  return {
    type: 'about:blank',
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail,
    instance: request.url.split('?')[0] ?? request.url,
    ...(errors ? { errors } : {}),
  };
}

export function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  detail: string,
  errors?: Problem['errors'],
): FastifyReply {
  return reply.code(status).type(PROBLEM_CONTENT_TYPE).send(buildProblem(request, status, detail, errors));
}

/** Every error leaves as application/problem+json; 5xx details stay in the log, never in the body. */
export function installProblemHandlers(app: FastifyInstance): void {
  app.setNotFoundHandler((request, reply) => {
    sendProblem(request, reply, 404, `No route for ${request.method} ${request.url.split('?')[0]}`);
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.validation) {
      const context = error.validationContext ?? 'request';
      const errors = error.validation.map((issue) => ({
        path: joinPath(context, issue.instancePath),
        message: issue.message ?? 'invalid value',
      }));
      const detail = errors.map((e) => `${e.path}: ${e.message}`).join('; ');
      return sendProblem(request, reply, 400, detail, errors);
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) return sendProblem(request, reply, status, error.message);
    request.log.error({ err: error }, 'request failed');
    return sendProblem(request, reply, 500, 'The server could not complete the request.');
  });
}

function joinPath(context: string, instancePath: string): string {
  const tail = instancePath.split('/').filter(Boolean).join('.');
  return tail ? `${context}.${tail}` : context;
}
