import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { sql } from 'kysely';
import type { Db } from '../store/connect.ts';
import { tagOf } from './etag.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The answer is a function of the request, the caller and what the store holds: it may be sent again, without
     * running the handler, while the database's snapshot is the same. `clockSeconds`: it reads the clock too
     * (counts of the last 24 hours), and may be sent again within that many seconds of the clock's.
     */
    snapshotCache?: true | { clockSeconds: number };
  }
  interface FastifyRequest {
    /** The database snapshot the caller's API key was read in, when nothing was written after (api/auth.ts). */
    storeSnapshot?: string;
    /** The snapshot the answer was looked up under; set on a route with snapshotCache. */
    answerSnapshot?: string;
    /** The answer's ETag, when already known (a cached answer carries it). */
    answerTag?: string;
    /** Told the answer this request builds, for the requests waiting on it (or undefined: nothing to share). */
    answerBuilt?: (answer: CachedAnswer | undefined) => void;
  }
}

interface CachedAnswer {
  snapshot: string;
  /** The answer's UTF-8 bytes: a hit is written to the socket as it is, not encoded again. */
  body: Buffer;
  tag: string;
  /** The body gzipped, once a client that accepts gzip has asked for it (compressed once, in libuv's pool). */
  gzip?: Promise<Buffer>;
  /** The gzipped body's size, once counted in the cache's bytes. */
  gzipBytes?: number;
}

const gzipAsync = promisify(gzip);
/** Smaller answers go as they are: the saving is lost in the headers. */
const GZIP_FROM_BYTES = 1_024;

/**
 * The latest answers of the snapshot-cached routes, by caller and URL, at most `maxBytes` of them (least recently
 * used go first).
 *
 * PostgreSQL's snapshot (`pg_current_snapshot()`: the transactions in progress and the next one to start) names
 * what a query can see: two queries under the same snapshot see the same rows. It comes with the caller's API key,
 * in the same round trip (a session's caller reads it apart). Any write starts a transaction and changes it, and a
 * commit takes its transaction out of the in-progress list, so an answer is sent again only while nothing has been
 * written since it was built, in this process or any other on the same database. Reading the
 * snapshot is one round trip; the handler's queries, its rows turned into documents and the JSON written are what
 * a hit saves. A store that is written every second (crawls, the job queue's own bookkeeping) still answers a
 * helpdesk polling the same cursor, or an inbox refreshed by many people, from here most of the time.
 */
export class AnswerCache {
  readonly #answers = new Map<string, CachedAnswer>();
  /**
   * Answers being built, by key: when a write changes the snapshot, the fifty clients polling a page all miss at
   * once; one builds the answer and the others wait for it, instead of fifty builds queuing for the database.
   */
  readonly building = new Map<string, { snapshot: string; answer: Promise<CachedAnswer | undefined> }>();
  #bytes = 0;
  readonly maxBytes: number;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  get(key: string, snapshot: string): CachedAnswer | undefined {
    const hit = this.#answers.get(key);
    if (hit === undefined || hit.snapshot !== snapshot) return undefined;
    this.#answers.delete(key);
    this.#answers.set(key, hit);
    return hit;
  }

  set(key: string, answer: CachedAnswer): void {
    const size = sizeOf(key, answer);
    if (size > this.maxBytes / 4) return;
    this.#remove(key);
    this.#answers.set(key, answer);
    this.#bytes += size;
    this.#evict();
  }

  /** The answer's body gzipped: compressed on the first call, then kept with the answer (and counted). */
  gzipped(key: string, answer: CachedAnswer): Promise<Buffer> {
    answer.gzip ??= gzipAsync(answer.body, { level: 6 }).then((gz) => {
      if (this.#answers.get(key) === answer) {
        answer.gzipBytes = gz.length;
        this.#bytes += gz.length;
        this.#evict();
      }
      return gz;
    });
    return answer.gzip;
  }

  #evict(): void {
    for (const [oldest] of this.#answers) {
      if (this.#bytes <= this.maxBytes) break;
      this.#remove(oldest);
    }
  }

  get size(): { answers: number; bytes: number } {
    return { answers: this.#answers.size, bytes: this.#bytes };
  }

  #remove(key: string): void {
    const old = this.#answers.get(key);
    if (old === undefined) return;
    this.#answers.delete(key);
    this.#bytes -= sizeOf(key, old);
  }
}

/** Bytes in memory: the body's, and two a character of the strings, as V8 keeps a string with any Cyrillic in it. */
function sizeOf(key: string, answer: CachedAnswer): number {
  return answer.body.length + (answer.gzipBytes ?? 0) + 2 * (key.length + answer.snapshot.length + answer.tag.length);
}

/** Accept-Encoding names gzip (or `*`) without `q=0` (RFC 9110 §12.5.3). */
export function acceptsGzip(header: string | undefined): boolean {
  if (header === undefined) return false;
  return header.split(',').some((part) => {
    const [coding, ...params] = part.split(';').map((p) => p.trim().toLowerCase());
    if (coding !== 'gzip' && coding !== 'x-gzip' && coding !== '*') return false;
    const q = params.find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

/**
 * Serves the routes marked snapshotCache from `cache`: looked up after authentication (a revoked key is refused
 * as before), stored when the handler answered 200. Register before the ETag hook, which reuses the tag.
 */
export function installAnswerCache(app: FastifyInstance, db: Db, cache: AnswerCache, now: () => Date): void {
  const keyOf = (request: { principal: { kind: string; id: number } | null; url: string }) =>
    `${request.principal!.kind}:${request.principal!.id} ${request.url}`;
  app.addHook('preHandler', async (request, reply) => {
    if (request.method !== 'GET' || !request.routeOptions.config.snapshotCache || request.principal === null) return;
    const store = request.storeSnapshot ?? (await sql<{ snapshot: string }>`SELECT pg_current_snapshot()::text AS snapshot`.execute(db)).rows[0]!.snapshot;
    const cached = request.routeOptions.config.snapshotCache;
    const snapshot = cached === true ? store : `${store} ${Math.floor(now().getTime() / 1000 / cached.clockSeconds)}`;
    request.answerSnapshot = snapshot;
    const key = keyOf(request);
    let hit = cache.get(key, snapshot);
    const building = cache.building.get(key);
    if (hit === undefined && building?.snapshot === snapshot) hit = await building.answer;
    reply.header('vary', 'accept-encoding');
    if (hit !== undefined) {
      reply.type('application/json; charset=utf-8');
      return reply.send(await bytesFor(request, reply, key, hit));
    }
    if (cache.building.get(key)?.snapshot !== snapshot) {
      let told!: (answer: CachedAnswer | undefined) => void;
      const answer = new Promise<CachedAnswer | undefined>((resolve) => (told = resolve));
      cache.building.set(key, { snapshot, answer });
      request.answerBuilt = (built) => {
        request.answerBuilt = undefined;
        if (cache.building.get(key)?.answer === answer) cache.building.delete(key);
        told(built);
      };
    }
  });
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.answerSnapshot === undefined || request.answerTag !== undefined) return payload;
    if (reply.statusCode !== 200 || typeof payload !== 'string') return payload;
    const body = Buffer.from(payload, 'utf8');
    const answer: CachedAnswer = { snapshot: request.answerSnapshot, body, tag: tagOf(body) };
    const key = keyOf(request);
    cache.set(key, answer);
    request.answerBuilt?.(answer);
    return bytesFor(request, reply, key, answer);
  });
  /**
   * What goes on the wire: the body, or its gzip to a client that accepts it (a 200 KB ticket page is about 30 KB),
   * with the ETag of that representation.
   */
  async function bytesFor(request: FastifyRequest, reply: FastifyReply, key: string, answer: CachedAnswer): Promise<Buffer> {
    if (answer.body.length < GZIP_FROM_BYTES || !acceptsGzip(request.headers['accept-encoding'])) {
      request.answerTag = answer.tag;
      return answer.body;
    }
    const gz = await cache.gzipped(key, answer);
    request.answerTag = `${answer.tag.slice(0, -1)}.gz"`;
    reply.header('content-encoding', 'gzip');
    return gz;
  }
  // An error, or a client gone before the answer: the waiting requests build their own.
  app.addHook('onResponse', async (request) => request.answerBuilt?.(undefined));
  app.addHook('onRequestAbort', async (request) => request.answerBuilt?.(undefined));
}
