import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** Nothing but our own files: no inline script or style, no other origin, no framing. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "font-src 'self'",
  "connect-src 'self'", "manifest-src 'self'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
].join('; ');

/** The single-page app's own paths: each answers index.html, and the app shows the page. */
export const UI_PAGES = ['/', '/login', '/inbox', '/mentions/:id', '/dashboard', '/sources', '/people'] as const;

function secure(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CONTENT_SECURITY_POLICY)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'same-origin')
    .header('x-frame-options', 'DENY');
}

/**
 * Serves the built inbox (ui/dist): hashed assets cached for a year, index.html never cached, so a new
 * release is picked up on the next load. When the UI was not built, the pages say how to build it.
 */
export async function registerWebUi(app: FastifyInstance, dir: string): Promise<void> {
  const indexFile = join(dir, 'index.html');
  const built = existsSync(indexFile);
  // Read once: the files do not change under a running server (a rebuild comes with a restart).
  const index = built ? readFileSync(indexFile, 'utf8') : null;
  if (built) {
    await app.register(fastifyStatic, {
      root: join(dir, 'assets'),
      prefix: '/assets/',
      index: false,
      wildcard: true,
      cacheControl: false,
      setHeaders: (res) => {
        res.setHeader('cache-control', 'public, max-age=31536000, immutable');
        res.setHeader('content-security-policy', CONTENT_SECURITY_POLICY);
        res.setHeader('x-content-type-options', 'nosniff');
      },
    });
  }
  for (const url of UI_PAGES) {
    app.get(url, { schema: { hide: true } }, async (_request, reply) => {
      secure(reply).header('cache-control', 'no-cache');
      if (index !== null) return reply.type('text/html; charset=utf-8').send(index);
      return reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send('The web UI is not built. Run `npm run build:ui` (npm start does it for you), then restart earshot.\n');
    });
  }
}
