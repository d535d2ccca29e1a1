import type { FastifyInstance } from 'fastify';

/** Starts listening and returns the address, e.g. `http://127.0.0.1:8080`. */
export async function startServer(app: FastifyInstance, opts: { host: string; port: number }): Promise<string> {
  return app.listen({ host: opts.host, port: opts.port });
}
