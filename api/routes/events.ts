import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import { readInboxWatermark } from '../../store/inbox.ts';
import { describeProblems } from '../errors.ts';
import type { ApiDeps, ZodApp } from '../types.ts';

export const DEFAULT_EVENTS_POLL_MS = 3000;
const PING_MS = 25_000;

type Watermark = Awaited<ReturnType<typeof readInboxWatermark>>;

interface Stream {
  res: ServerResponse;
  /** What this client was last told. */
  last: Watermark;
  end: () => void;
}

/**
 * Server-sent events for the signed-in inbox. Crawls may run in another process, so the API polls the store (two
 * index probes) rather than listening in this one, and tells each browser when new mentions or ticket changes
 * arrived; the browser then reads its list again. One poll serves every open stream, and none runs without one.
 */
export function registerEventRoutes(app: ZodApp, deps: ApiDeps): void {
  const pollMs = deps.eventsPollMs ?? DEFAULT_EVENTS_POLL_MS;
  const streams = new Set<Stream>();
  let timers: { poll: NodeJS.Timeout; ping: NodeJS.Timeout } | null = null;
  let polling = false;

  const poll = async () => {
    if (polling) return;
    polling = true;
    try {
      const now = await readInboxWatermark(deps.db);
      for (const stream of streams) {
        // Only forward: a stream that opened while this read ran may already know more than it found.
        const last = stream.last;
        if (!isAhead(now.mentionId, last.mentionId) && !isAhead(now.ticketSeq, last.ticketSeq)) continue;
        stream.last = {
          mentionId: isAhead(now.mentionId, last.mentionId) ? now.mentionId : last.mentionId,
          ticketSeq: isAhead(now.ticketSeq, last.ticketSeq) ? now.ticketSeq : last.ticketSeq,
        };
        send(stream.res, 'changed', stream.last);
      }
    } catch (err) {
      if (streams.size > 0) app.log.warn({ err }, 'events: reading the store failed; trying again');
    } finally {
      polling = false;
    }
  };
  const ping = () => {
    for (const stream of streams) stream.res.write(': ping\n\n');
  };
  const endAll = () => {
    for (const stream of [...streams]) stream.end();
  };
  // Before the server stops taking connections: it waits for the open ones, and a stream never ends by itself.
  app.addHook('preClose', (done) => {
    endAll();
    done();
  });
  app.addHook('onClose', (_instance, done) => {
    endAll();
    done();
  });

  app.get(
    '/events',
    {
      schema: {
        operationId: 'streamEvents',
        summary: 'Server-sent events: new mentions and ticket changes, for the inbox to read its list again',
        description:
          'A text/event-stream. On connect, `event: hello` with the newest mention id and ticket change seq; then ' +
          '`event: changed` with both whenever either moved (the store is read every few seconds), and a `: ping` ' +
          'comment every 25 s. Data: {"mention_id":"…","ticket_seq":"…"}, "0" when there is none yet.',
        tags: ['inbox'],
        response: {
          200: {
            description: 'The event stream; it stays open until the client or the server closes it',
            content: { 'text/event-stream': { schema: z.string() } },
          },
          ...describeProblems(401, 403, 500),
        },
      },
    },
    async (request, reply) => {
      // Read before the stream opens: a store that cannot answer is a 500 problem, not an empty stream.
      const first = await readInboxWatermark(deps.db);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
      send(res, 'hello', first);
      const stream: Stream = {
        res,
        last: first,
        end: () => {
          if (!streams.delete(stream)) return;
          if (streams.size === 0 && timers) {
            clearInterval(timers.poll);
            clearInterval(timers.ping);
            timers = null;
          }
          if (!res.writableEnded) res.end();
        },
      };
      streams.add(stream);
      // Unref'd: an open client socket keeps the process alive; the timers alone must not.
      timers ??= { poll: setInterval(() => void poll(), pollMs).unref(), ping: setInterval(ping, PING_MS).unref() };
      res.on('close', stream.end);
      // The client may have gone while the first read ran.
      if (res.destroyed) stream.end();
    },
  );
}

function send(res: ServerResponse, event: 'hello' | 'changed', at: Watermark): void {
  res.write(`event: ${event}\ndata: ${JSON.stringify({ mention_id: at.mentionId, ticket_seq: at.ticketSeq })}\n\n`);
}

/** Ids and seqs are int8, as decimal strings. */
function isAhead(a: string, b: string): boolean {
  return BigInt(a) > BigInt(b);
}
