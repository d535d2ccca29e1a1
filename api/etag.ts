import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';

/** The ETag of an answer's bytes. */
export function tagOf(body: string | Buffer): string {
  return `"${createHash('sha1').update(body).digest('base64url')}"`;
}

/**
 * ETag and If-None-Match for what the API reads: a GET answered 200 gets a tag of its bytes, and a client that sends
 * it back while the page is unchanged gets 304 without the body (a helpdesk polling the feed, the inbox refreshing).
 * The answer is built (or taken from the answer cache) as for any other request: what 304 saves is the bytes on the
 * wire and the client's parsing. Answers that set their own tag (a ticket: its version, for
 * If-Match) or must not be stored (no-store) are left as they are. A cached answer (answer-cache.ts) brings its tag.
 */
export function installEtags(app: FastifyInstance): void {
  app.addHook('onSend', async (request, reply, payload) => {
    // A string the handler built, or the bytes of an answer the answer cache keeps (it sets answerTag).
    const answer = typeof payload === 'string' || (Buffer.isBuffer(payload) && request.answerTag !== undefined);
    if (request.method !== 'GET' || reply.statusCode !== 200 || !answer) return payload;
    if (reply.hasHeader('etag') || String(reply.getHeader('cache-control') ?? '').includes('no-store')) return payload;
    const tag = request.answerTag ?? tagOf(payload as string);
    reply.header('etag', tag);
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'private, no-cache');
    if (matches(request.headers['if-none-match'], tag)) {
      reply.code(304);
      reply.removeHeader('content-encoding');
      return '';
    }
    return payload;
  });
}

/** If-None-Match: `*`, or a list of tags, weak ones compared by their opaque part (RFC 9110 §13.1.2). */
function matches(header: string | undefined, tag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === tag);
}
