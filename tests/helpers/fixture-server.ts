import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A canned response: `body` inline, or `file` read from disk on every request. */
export interface FixtureResponse {
  status?: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
  file?: string;
}

/** A reply computed per request; `body` is the request body already read (POST form or JSON). */
export type FixtureHandler = (req: IncomingMessage, res: ServerResponse, body: string) => void | Promise<void>;

export type FixtureReply = FixtureResponse | FixtureHandler;

/**
 * Routes keyed by path, optionally with a query that must match (`/search?q=kaspi`: every listed param must be
 * present with that value; other params are ignored). Routes with a query win over the bare path. An array
 * is played in order, one reply per request, and its last reply repeats.
 */
export type FixtureRoutes = Record<string, FixtureReply | FixtureReply[]>;

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  /** The request body as text (POST); '' for none. */
  body: string;
}

export interface FixtureServer {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:41234`. */
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

interface CompiledRoute {
  path: string;
  query: Record<string, string>;
  replies: FixtureReply[];
  served: number;
}

export async function startFixtureServer(routes: FixtureRoutes): Promise<FixtureServer> {
  const compiled = compileRoutes(routes);
  const requests: RecordedRequest[] = [];

  const server = createServer(async (req, res) => {
    const parsed = new URL(req.url ?? '/', 'http://fixture.invalid');
    const query = Object.fromEntries(parsed.searchParams);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    requests.push({ method: req.method ?? 'GET', path: parsed.pathname, query, headers: req.headers, body });

    const route = compiled.find(
      (r) => r.path === parsed.pathname && Object.entries(r.query).every(([k, v]) => query[k] === v),
    );
    if (!route) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`no fixture route for ${req.url}`);
      return;
    }
    const reply = route.replies[Math.min(route.served, route.replies.length - 1)];
    route.served += 1;
    serveReply(reply, req, res, body).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`fixture server error: ${err instanceof Error ? err.message : String(err)}`);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

function compileRoutes(routes: FixtureRoutes): CompiledRoute[] {
  const compiled = Object.entries(routes).map(([key, reply]) => {
    const parsed = new URL(key, 'http://fixture.invalid');
    return {
      path: parsed.pathname,
      query: Object.fromEntries(parsed.searchParams),
      replies: Array.isArray(reply) ? reply : [reply],
      served: 0,
    };
  });
  // Most specific first: more query params to match wins.
  return compiled.sort((a, b) => Object.keys(b.query).length - Object.keys(a.query).length);
}

async function serveReply(
  reply: FixtureReply | undefined,
  req: IncomingMessage,
  res: ServerResponse,
  requestBody: string,
): Promise<void> {
  if (reply === undefined) {
    res.writeHead(500).end('empty reply list');
    return;
  }
  if (typeof reply === 'function') {
    await reply(req, res, requestBody);
    return;
  }
  const body = reply.file !== undefined ? await readFile(reply.file) : (reply.body ?? '');
  res.writeHead(reply.status ?? 200, reply.headers ?? {});
  res.end(body);
}
