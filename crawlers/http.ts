import { setTimeout as delay } from 'node:timers/promises';
import { TextDecoder } from 'node:util';
import { brotliDecompressSync, constants as zlibConstants, gunzipSync, inflateSync } from 'node:zlib';
import { Agent, request } from 'undici';
import type { Dispatcher } from 'undici';
import { backoffWithJitterMs, parseRetryAfter } from '../lib/backoff.ts';
import { guardedConnector, OutboundAddressError, outboundPolicy } from '../lib/outbound.ts';
import { isSecretParam } from '../log/redact.ts';
import { detectBlockPage } from './block-page.ts';
import {
  BlockedError,
  RateLimitedError,
  SourceUnavailableError,
  TargetUnusableError,
} from './errors.ts';

export interface HttpResponse {
  /** The final URL, after redirects. */
  url: string;
  status: number;
  /** Lower-cased names; repeated headers are joined with ", ". */
  headers: Record<string, string>;
  contentType: string | null;
  /** Decoded with the charset of the header, the XML prolog or utf-8. */
  body: string;
}

export interface HttpGetOptions {
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /**
   * Error statuses the caller reads itself (a source's documented refusals, whose body names the reason): they
   * are returned like a 2xx, once, without retry. A captcha or block page is still a BlockedError.
   */
  acceptStatuses?: readonly number[];
  /**
   * The wait, in ms, that a 429 without Retry-After asks for in the source's own headers (Reddit's
   * X-Ratelimit-Reset); null when they do not say.
   */
  rateLimitWaitMs?: (headers: Record<string, string>) => number | null;
}

export interface HttpRequestOptions extends HttpGetOptions {
  method?: 'GET' | 'POST';
  /** A request body (POST): sent as is; set its content-type in `headers`. */
  body?: string;
}

export interface HttpClient {
  get(url: string, opts?: HttpGetOptions): Promise<HttpResponse>;
  request(url: string, opts?: HttpRequestOptions): Promise<HttpResponse>;
}

/** One response as it arrived (after redirects), for record mode: every attempt, errors included. */
export interface HttpExchange {
  method: string;
  url: string;
  requestBody: string | null;
  status: number;
  headers: Record<string, string>;
  contentType: string | null;
  body: string;
}

/** The client `createHttpClient` returns: the `HttpClient` crawlers see, plus the knobs of its owner. */
export interface PoliteHttpClient extends HttpClient {
  /** Requests per second for one host (`example.com` or `example.com:8080`); 0 or Infinity: no spacing. */
  setHostRate(host: string, perSecond: number): void;
  /**
   * A view that spaces its requests at `perSecond` per host (a crawler's declared rate) on the same slots,
   * so two crawlers that reach one host still queue behind each other. With `reserveSlot`, the slots are
   * taken there instead (shared by every process: a limit a source sets per account).
   */
  withRate(perSecond: number, opts?: { reserveSlot?: SlotReserver }): HttpClient;
  close(): Promise<void>;
}

/** Reserves the next request slot of `host`, `intervalMs` after the previous one; resolves to the ms to wait. */
export type SlotReserver = (host: string, intervalMs: number) => Promise<number>;

export interface HttpClientOptions {
  userAgent?: string;
  /** Default spacing for every host. */
  perHostPerSecond?: number;
  hostRates?: Record<string, number>;
  connectTimeoutMs?: number;
  /** Whole request, body included, per attempt and redirect hop. */
  totalTimeoutMs?: number;
  retries?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** A Retry-After longer than this is not slept through: the request fails at once. */
  maxRetryAfterMs?: number;
  /** `retryAfterMs` of a RateLimitedError when the source sent no Retry-After. */
  defaultRetryAfterMs?: number;
  maxBodyBytes?: number;
  maxRedirects?: number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  now?: () => number;
  /** In [0, 1), for backoff jitter. */
  random?: () => number;
  dispatcher?: Dispatcher;
  /** Called with every response received (record mode); a failing hook fails the request. */
  onExchange?: (exchange: HttpExchange) => void | Promise<void>;
}

export const DEFAULT_USER_AGENT = 'earshot/0.1 (+https://github.com/earshot)';

const RETRYABLE_STATUSES = new Set([429, 502, 503, 504]);
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];
/** Enough of an error page to tell a captcha from an outage, without holding a large body. */
const ERROR_BODY_BYTES = 64 * 1024;

interface ReceivedResponse {
  url: string;
  method: string;
  requestBody: string | null;
  status: number;
  headers: Record<string, string>;
  bytes: Uint8Array;
}

/** A transport failure (DNS, refused, reset, timeout) that is worth another attempt. */
class NetworkFailure extends Error {
  override name = 'NetworkFailure';
}

export function createHttpClient(options: HttpClientOptions = {}): PoliteHttpClient {
  const userAgent = options.userAgent ?? DEFAULT_USER_AGENT;
  const defaultRate = options.perHostPerSecond ?? 1;
  const connectTimeoutMs = options.connectTimeoutMs ?? 15_000;
  const totalTimeoutMs = options.totalTimeoutMs ?? 30_000;
  const retries = options.retries ?? 3;
  const backoffBaseMs = options.backoffBaseMs ?? 1_000;
  const backoffMaxMs = options.backoffMaxMs ?? 60_000;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 5 * 60_000;
  const defaultRetryAfterMs = options.defaultRetryAfterMs ?? 60_000;
  const maxBodyBytes = options.maxBodyBytes ?? 20 * 1024 * 1024;
  const maxRedirects = options.maxRedirects ?? 5;
  const sleep = options.sleep ?? defaultSleep;
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const ownsDispatcher = options.dispatcher === undefined;
  const dispatcher =
    options.dispatcher ??
    new Agent({
      // Every hop, redirects included, connects only where the outbound policy allows (lib/outbound.ts).
      connect: guardedConnector(outboundPolicy, { timeout: connectTimeoutMs }),
      headersTimeout: totalTimeoutMs,
      bodyTimeout: totalTimeoutMs,
    });

  const hostRates = new Map<string, number>(Object.entries(options.hostRates ?? {}));
  const nextSlotAt = new Map<string, number>();

  function rateFor(url: URL, requested: number | undefined): number {
    return hostRates.get(url.host) ?? hostRates.get(url.hostname) ?? requested ?? defaultRate;
  }

  // The slot is reserved before awaiting, so concurrent callers queue up one interval apart.
  async function waitForHostSlot(url: URL, requested: number | undefined, signal: AbortSignal | undefined, reserve: SlotReserver | undefined): Promise<void> {
    const rate = rateFor(url, requested);
    const interval = rate > 0 && Number.isFinite(rate) ? 1000 / rate : 0;
    if (interval === 0) return;
    if (reserve) {
      const wait = await reserve(url.host, interval);
      if (wait > 0) await sleep(wait, signal);
      return;
    }
    const t = now();
    const slot = Math.max(t, nextSlotAt.get(url.host) ?? t);
    nextSlotAt.set(url.host, slot + interval);
    if (slot > t) await sleep(slot - t, signal);
  }

  async function sendOnce(
    url: URL,
    method: 'GET' | 'POST',
    headers: Record<string, string>,
    body: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<{ status: number; headers: Record<string, string>; bytes: Uint8Array }> {
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), totalTimeoutMs);
    const signals = signal ? [signal, timeout.signal] : [timeout.signal];
    const combined = AbortSignal.any(signals);
    try {
      const res = await request(url, { method, headers, body, signal: combined, dispatcher });
      const resHeaders = flattenHeaders(res.headers);
      const ok = res.statusCode >= 200 && res.statusCode < 300;
      if (REDIRECT_STATUSES.has(res.statusCode)) {
        await res.body.dump().catch(() => undefined);
        return { status: res.statusCode, headers: resHeaders, bytes: new Uint8Array() };
      }
      // An error page is read only far enough to tell a captcha or block page from an outage.
      const limit = ok ? maxBodyBytes : ERROR_BODY_BYTES;
      const declared = Number(resHeaders['content-length']);
      if (ok && Number.isFinite(declared) && declared > limit) {
        res.body.destroy();
        throw new SourceUnavailableError(`${redactUrl(url.href)}: body of ${declared} bytes exceeds ${limit}`);
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
        size += buf.length;
        if (size > limit) {
          res.body.destroy();
          if (ok) throw new SourceUnavailableError(`${redactUrl(url.href)}: body exceeds ${limit} bytes`);
          break;
        }
        chunks.push(buf);
      }
      const bytes = decompress(Buffer.concat(chunks), resHeaders['content-encoding'], limit, url, { errorPage: !ok });
      return { status: res.statusCode, headers: resHeaders, bytes };
    } catch (err) {
      if (signal?.aborted) throw signal.reason ?? err;
      if (err instanceof SourceUnavailableError) throw err;
      // Not worth another attempt: the target (or where it redirects) is somewhere earshot does not go.
      const refused = err instanceof OutboundAddressError ? err : (err as Error).cause instanceof OutboundAddressError ? ((err as Error).cause as Error) : null;
      if (refused) throw new TargetUnusableError(`${redactUrl(url.href)}: ${refused.message}`);
      if (timeout.signal.aborted) {
        throw new NetworkFailure(`${redactUrl(url.href)}: timed out after ${totalTimeoutMs} ms`, { cause: err });
      }
      throw new NetworkFailure(`${redactUrl(url.href)}: ${describeError(err)}`, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  async function sendFollowingRedirects(
    startUrl: string,
    opts: HttpRequestOptions,
    rate: number | undefined,
    reserve: SlotReserver | undefined,
  ): Promise<ReceivedResponse> {
    let url = parseUrl(startUrl);
    let method = opts.method ?? 'GET';
    let body = opts.body;
    let headers: Record<string, string> = {
      'user-agent': userAgent,
      accept: '*/*',
      'accept-encoding': 'gzip, deflate, br',
      ...lowerCaseKeys(opts.headers ?? {}),
    };
    for (let hop = 0; ; hop++) {
      await waitForHostSlot(url, rate, opts.signal, reserve);
      const res = await sendOnce(url, method, headers, body, opts.signal);
      const location = res.headers['location'];
      if (!REDIRECT_STATUSES.has(res.status) || location === undefined) {
        return { url: url.href, method, requestBody: body ?? null, status: res.status, headers: res.headers, bytes: res.bytes };
      }
      if (hop >= maxRedirects) {
        throw new SourceUnavailableError(`${redactUrl(startUrl)}: more than ${maxRedirects} redirects`, res.status);
      }
      const next = parseUrl(location, url);
      if (next.origin !== url.origin) headers = withoutKeys(headers, CREDENTIAL_HEADERS);
      // Browsers turn a POST into a GET on 301/302/303; 307/308 repeat it as it was.
      if (method === 'POST' && res.status !== 307 && res.status !== 308) {
        method = 'GET';
        body = undefined;
        headers = withoutKeys(headers, ['content-type', 'content-length']);
      }
      url = next;
    }
  }

  async function send(url: string, opts: HttpRequestOptions, rate: number | undefined, reserve?: SlotReserver): Promise<HttpResponse> {
    const { signal } = opts;
    const shown = redactUrl(url);
    for (let attempt = 0; ; attempt++) {
      signal?.throwIfAborted();
      let res: ReceivedResponse | null = null;
      let failure: NetworkFailure | null = null;
      try {
        res = await sendFollowingRedirects(url, opts, rate, reserve);
      } catch (err) {
        if (!(err instanceof NetworkFailure)) throw err;
        failure = err;
      }

      let retryAfterMs: number | null = null;
      if (res) {
        const contentType = res.headers['content-type'] ?? null;
        const body = decodeBody(res.bytes, contentType);
        await options.onExchange?.({
          method: res.method,
          url: res.url,
          requestBody: res.requestBody,
          status: res.status,
          headers: res.headers,
          contentType,
          body,
        });
        if (res.status >= 200 && res.status < 300) {
          return { url: res.url, status: res.status, headers: res.headers, contentType, body };
        }
        const where = redactUrl(res.url);
        // A captcha served with 403, 429 or 503 is a block: retrying only digs the hole deeper.
        const blockReason = detectBlockPage(body);
        if (blockReason !== null) throw new BlockedError(`${where}: HTTP ${res.status}, ${blockReason}`);
        if (opts.acceptStatuses?.includes(res.status)) {
          return { url: res.url, status: res.status, headers: res.headers, contentType, body };
        }
        if (res.status === 403) throw new BlockedError(`${where}: HTTP 403`);
        if (!RETRYABLE_STATUSES.has(res.status)) {
          throw new SourceUnavailableError(`${where}: HTTP ${res.status}`, res.status);
        }
        retryAfterMs = parseRetryAfter(res.headers['retry-after'], now());
        if (retryAfterMs === null && res.status === 429) retryAfterMs = opts.rateLimitWaitMs?.(res.headers) ?? null;
      }

      const giveUp = (): Error => {
        if (failure) return new SourceUnavailableError(failure.message);
        const status = res?.status;
        if (status === 429) {
          return new RateLimitedError(`${shown}: HTTP 429`, retryAfterMs ?? defaultRetryAfterMs);
        }
        return new SourceUnavailableError(`${shown}: HTTP ${status}`, status);
      };

      if (retryAfterMs !== null && retryAfterMs > maxRetryAfterMs) throw giveUp();
      if (attempt >= retries) throw giveUp();
      await sleep(retryAfterMs ?? backoffWithJitterMs(attempt, backoffBaseMs, backoffMaxMs, random), signal);
    }
  }

  const viewAt = (rate: number | undefined, reserve?: SlotReserver): HttpClient => ({
    get: (url, opts = {}) => send(url, { ...opts, method: 'GET' }, rate, reserve),
    request: (url, opts = {}) => send(url, opts, rate, reserve),
  });

  return {
    ...viewAt(undefined),
    withRate: (perSecond, opts = {}) => viewAt(perSecond, opts.reserveSlot),
    setHostRate(host: string, perSecond: number) {
      hostRates.set(host, perSecond);
    },
    async close() {
      if (ownsDispatcher) await dispatcher.close();
    },
  };
}

/** The URL with credential-carrying query parameters replaced by "***", for messages, logs and recordings. */
export function redactUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return value;
  }
  let changed = false;
  for (const name of [...url.searchParams.keys()]) {
    if (isSecretParam(name)) {
      url.searchParams.set(name, '***');
      changed = true;
    }
  }
  if (url.username || url.password) {
    url.username = '';
    url.password = '';
    changed = true;
  }
  return changed ? url.href : value;
}

/**
 * Decode response bytes to text. Charset order: a byte-order mark, the Content-Type `charset=`, the XML prolog
 * `encoding=`, else utf-8. Unknown labels fall back to utf-8.
 */
export function decodeBody(bytes: Uint8Array, contentType: string | null): string {
  const charset = sniffBom(bytes) ?? charsetFromContentType(contentType) ?? charsetFromXmlProlog(bytes) ?? 'utf-8';
  return createDecoder(charset).decode(bytes);
}

export function charsetFromContentType(contentType: string | null): string | null {
  if (!contentType) return null;
  const match = /;\s*charset\s*=\s*(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return match ? (match[1] ?? match[2] ?? null) : null;
}

export function charsetFromXmlProlog(bytes: Uint8Array): string | null {
  // Prolog bytes are ASCII in every encoding a feed uses, so latin1 reads them without knowing the charset.
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 512)).toString('latin1');
  const match = /^\s*<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z0-9._:-]+)["']/.exec(head);
  return match?.[1] ?? null;
}

function sniffBom(bytes: Uint8Array): string | null {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return 'utf-8';
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return 'utf-16be';
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return 'utf-16le';
  return null;
}

function createDecoder(charset: string): TextDecoder {
  try {
    return new TextDecoder(charset.trim().toLowerCase());
  } catch {
    return new TextDecoder('utf-8');
  }
}

/**
 * The body as sent, undone of its content-encoding. An error page (`errorPage`) may be cut short and is read
 * only for block markers: it is inflated as far as it goes, and kept as it came when it cannot be.
 */
function decompress(body: Buffer, encoding: string | undefined, maxBytes: number, url: URL, opts: { errorPage: boolean }): Uint8Array {
  const coding = encoding?.trim().toLowerCase();
  if (!coding || coding === 'identity' || body.length === 0) return body;
  const flush = opts.errorPage ? { finishFlush: zlibConstants.Z_SYNC_FLUSH } : {};
  try {
    if (coding === 'gzip' || coding === 'x-gzip') return gunzipSync(body, { maxOutputLength: maxBytes, ...flush });
    if (coding === 'deflate') return inflateSync(body, { maxOutputLength: maxBytes, ...flush });
    if (coding === 'br') return brotliDecompressSync(body, { maxOutputLength: maxBytes });
  } catch (err) {
    if (opts.errorPage) return body;
    throw new SourceUnavailableError(`${redactUrl(url.href)}: cannot decompress ${coding} body: ${describeError(err)}`);
  }
  if (opts.errorPage) return body;
  throw new SourceUnavailableError(`${redactUrl(url.href)}: unsupported content-encoding ${coding}`);
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

function withoutKeys(headers: Record<string, string>, keys: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => !keys.includes(k)));
}

function parseUrl(value: string, base?: URL): URL {
  try {
    return new URL(value, base);
  } catch {
    throw new SourceUnavailableError(`invalid URL: ${redactUrl(value)}`);
  }
}

function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as Error & { code?: unknown }).code;
    return typeof code === 'string' ? `${code} ${err.message}` : err.message;
  }
  return String(err);
}

async function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, signal ? { signal } : undefined);
  } catch (err) {
    throw signal?.aborted ? signal.reason : err;
  }
}
