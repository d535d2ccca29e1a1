import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { isDiskFull } from '../store/disk-space.ts';
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

// The path a problem names as its instance; a longer one (a 414's) is cut, so the answer stays small.
const INSTANCE_CHARS = 300;

export function buildProblem(
  request: FastifyRequest,
  status: number,
  detail: string,
  errors?: Problem['errors'],
): Problem {
  const path = request.url.split('?')[0] ?? request.url;
  return {
    type: 'about:blank',
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail,
    instance: path.length > INSTANCE_CHARS ? `${path.slice(0, INSTANCE_CHARS)}…` : path,
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
    if (isDiskFull(error)) {
      request.log.warn({ err: error }, 'the database is out of disk space');
      return sendProblem(request, reply, 503, 'The database is out of disk space: nothing was written. Try again once space is freed.');
    }
    request.log.error({ err: error }, 'request failed');
    return sendProblem(request, reply, 500, 'The server could not complete the request.');
  });
}

/**
 * Fastify's `frameworkErrors`: what the router refuses before any route or hook runs. Its own messages quote
 * the whole path; these say what is wrong with it instead.
 */
export function sendFrameworkProblem(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  switch (error.code) {
    case 'FST_ERR_BAD_URL':
      sendProblem(request, reply, 400, 'The path is not valid: a percent-encoded part of it does not decode to UTF-8.');
      return;
    case 'FST_ERR_MAX_PARAM_LENGTH':
      sendProblem(request, reply, 414, `A path parameter is too long: at most ${MAX_PARAM_LENGTH} characters.`);
      return;
    default: {
      const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
      if (status === 500) request.log.error({ err: error }, 'request failed before routing');
      sendProblem(request, reply, status, status === 500 ? 'The server could not complete the request.' : (STATUS_CODES[status] ?? 'Error'));
    }
  }
}

/** Fastify's `maxParamLength`: the longest path parameter the router takes (ids are far shorter). */
export const MAX_PARAM_LENGTH = 200;

/** How long a socket stays open after a client error's answer, reading what else the client sends. */
const CLIENT_ERROR_LINGER_MS = 5000;

/**
 * Fastify's `clientErrorHandler`: what Node's HTTP parser refuses before there is a request (a header section
 * over the size limit, bytes that are not HTTP), answered as problem+json on the raw socket. The answer is
 * followed by a FIN while the rest of the request is still read: closing at once, with unread bytes, would
 * send a reset that can make the client lose the answer.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  if (socket.writableEnded) {
    // Answered already: the parser fails again on each later chunk. Only a timeout ends the wait early.
    if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') socket.destroy();
    return;
  }
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const detail =
    status === 431 ? 'The request headers are too large.'
    : status === 408 ? 'The request did not arrive in time.'
    : 'The request is not valid HTTP.';
  const body = JSON.stringify({ type: 'about:blank', title: STATUS_CODES[status] ?? 'Error', status, detail, instance: '' } satisfies Problem);
  // As Node does: an answer of ours goes out only when no answer of a request before it on this connection has
  // begun, or it would land in the middle of that one.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  if (!socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  socket.setTimeout(CLIENT_ERROR_LINGER_MS, () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

function joinPath(context: string, instancePath: string): string {
  const tail = instancePath.split('/').filter(Boolean).join('.');
  return tail ? `${context}.${tail}` : context;
}
