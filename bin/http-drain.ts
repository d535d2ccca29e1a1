import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * The connections of the API's HTTP server, for stopping it in order. Node's `server.close()` stops listening
 * and closes the keep-alive connections that are idle at that moment, but a connection whose request is still
 * being answered stays open after its answer, idle, until its keep-alive timeout (72 s in fastify): a client
 * that keeps its connections (a load tool, a proxy, a browser) held a stopping process that long. Here each
 * answer given while stopping says `Connection: close` and its connection ends after it.
 */
export interface HttpDrain {
  /** Stops listening (a new connection is refused from now on) and ends each connection once it is idle. */
  startClosing(): void;
  /** Resolves when every connection has ended. */
  closed(): Promise<void>;
  /** Ends every connection now, requests in flight included. */
  destroyAll(): void;
  /** Requests being answered, and connections open. */
  counts(): { inFlight: number; connections: number };
}

export function drainHttpServer(server: Server): HttpDrain {
  const sockets = new Set<Socket>();
  const inFlight = new Set<ServerResponse>();
  let closing = false;
  let closedPromise: Promise<void> | null = null;
  const closeIdle = () => {
    // The socket becomes idle once the response has been handed over: on the next turn of the event loop.
    setImmediate(() => server.closeIdleConnections());
  };
  const endAfterAnswer = (res: ServerResponse) => {
    // Read when the headers are written; too late for an answer already streaming, which closeIdle then catches.
    if (!res.headersSent) res.shouldKeepAlive = false;
  };
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    inFlight.add(res);
    if (closing) endAfterAnswer(res);
    res.once('close', () => {
      inFlight.delete(res);
      if (closing) closeIdle();
    });
  });
  return {
    startClosing() {
      if (closing) return;
      closing = true;
      // Closes the listening socket at once, and the connections idle now; calls back when the last one ends.
      closedPromise = new Promise((resolve) => server.close(() => resolve()));
      for (const res of inFlight) endAfterAnswer(res);
    },
    closed() {
      return closedPromise ?? Promise.resolve();
    },
    destroyAll() {
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
    },
    counts() {
      return { inFlight: inFlight.size, connections: sockets.size };
    },
  };
}
