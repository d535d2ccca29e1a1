import { setTimeout as delay } from 'node:timers/promises';
import { TextDecoder } from 'node:util';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { Agent, request } from 'undici';
import type { Dispatcher } from 'undici';
import {
  BlockedError,
  RateLimitedError,
  SourceUnavailableError,
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
}

export interface HttpClient {
  get(url: string, opts?: HttpGetOptions): Promise<HttpResponse>;
}

/** The client `createHttpClient` returns: the `HttpClient` crawlers see, plus the knobs of its owner. */
export interface PoliteHttpClient extends HttpClient {
  /** Requests per second for one host (`example.com` or `example.com:8080`); 0 or Infinity: no spacing. */
  setHostRate(host: string, perSecond: number): void;
  close(): Promise<void>;
}

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
}

export const DEFAULT_USER_AGENT = 'earshot/0.1 (+https://github.com/earshot)';

const RETRYABLE_STATUSES = new Set([429, 502, 503, 504]);
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];

interface ReceivedResponse {
  url: string;
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
      connect: { timeout: connectTimeoutMs },
      headersTimeout: totalTimeoutMs,
      bodyTimeout: totalTimeoutMs,
    });

  const hostRates = new Map<string, number>(Object.entries(options.hostRates ?? {}));
  const nextSlotAt = new Map<string, number>();

  function rateFor(url: URL): number {
    return hostRates.get(url.host) ?? hostRates.get(url.hostname) ?? defaultRate;
  }

  // The slot is reserved before awaiting, so concurrent callers queue up one interval apart.
  async function waitForHostSlot(url: URL, signal: AbortSignal | undefined): Promise<void> {
    const rate = rateFor(url);
    const interval = rate > 0 && Number.isFinite(rate) ? 1000 / rate : 0;
    if (interval === 0) return;
    const t = now();
    const slot = Math.max(t, nextSlotAt.get(url.host) ?? t);
    nextSlotAt.set(url.host, slot + interval);
    if (slot > t) await sleep(slot - t, signal);
  }

  async function sendOnce(
    url: URL,
    headers: Record<string, string>,
    signal: AbortSignal | undefined,
  ): Promise<{ status: number; headers: Record<string, string>; bytes: Uint8Array | null }> {
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), totalTimeoutMs);
    const signals = signal ? [signal, timeout.signal] : [timeout.signal];
    const combined = AbortSignal.any(signals);
    try {
      const res = await request(url, { method: 'GET', headers, signal: combined, dispatcher });
      const resHeaders = flattenHeaders(res.headers);
      if (res.statusCode < 200 || res.statusCode >= 300) {
        await res.body.dump().catch(() => undefined);
        return { status: res.statusCode, headers: resHeaders, bytes: null };
      }
      const declared = Number(resHeaders['content-length']);
      if (Number.isFinite(declared) && declared > maxBodyBytes) {
        res.body.destroy();
        throw new SourceUnavailableError(`${url.href}: body of ${declared} bytes exceeds ${maxBodyBytes}`);
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
        size += buf.length;
        if (size > maxBodyBytes) {
          res.body.destroy();
          throw new SourceUnavailableError(`${url.href}: body exceeds ${maxBodyBytes} bytes`);
        }
        chunks.push(buf);
      }
      const bytes = decompress(Buffer.concat(chunks), resHeaders['content-encoding'], maxBodyBytes, url);
      return { status: res.statusCode, headers: resHeaders, bytes };
    } catch (err) {
      if (signal?.aborted) throw signal.reason ?? err;
      if (err instanceof SourceUnavailableError) throw err;
      if (timeout.signal.aborted) {
        throw new NetworkFailure(`${url.href}: timed out after ${totalTimeoutMs} ms`, { cause: err });
      }
      throw new NetworkFailure(`${url.href}: ${describeError(err)}`, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  async function sendFollowingRedirects(
    startUrl: string,
    callerHeaders: Record<string, string>,
    signal: AbortSignal | undefined,
  ): Promise<ReceivedResponse> {
    let url = parseUrl(startUrl);
    let headers: Record<string, string> = {
      'user-agent': userAgent,
      accept: '*/*',
      'accept-encoding': 'gzip, deflate, br',
      ...lowerCaseKeys(callerHeaders),
    };
    for (let hop = 0; ; hop++) {
      await waitForHostSlot(url, signal);
      const res = await sendOnce(url, headers, signal);
      const location = res.headers['location'];
      if (!REDIRECT_STATUSES.has(res.status) || location === undefined) {
        return { url: url.href, status: res.status, headers: res.headers, bytes: res.bytes ?? new Uint8Array() };
      }
      if (hop >= maxRedirects) {
        throw new SourceUnavailableError(`${startUrl}: more than ${maxRedirects} redirects`, res.status);
      }
      const next = parseUrl(location, url);
      if (next.origin !== url.origin) headers = withoutKeys(headers, CREDENTIAL_HEADERS);
      url = next;
    }
  }

  async function get(url: string, opts: HttpGetOptions = {}): Promise<HttpResponse> {
    const { signal } = opts;
    for (let attempt = 0; ; attempt++) {
      signal?.throwIfAborted();
      let res: ReceivedResponse | null = null;
      let failure: NetworkFailure | null = null;
      try {
        res = await sendFollowingRedirects(url, opts.headers ?? {}, signal);
      } catch (err) {
        if (!(err instanceof NetworkFailure)) throw err;
        failure = err;
      }

      let retryAfterMs: number | null = null;
      if (res) {
        if (res.status >= 200 && res.status < 300) {
          const contentType = res.headers['content-type'] ?? null;
          return {
            url: res.url,
            status: res.status,
            headers: res.headers,
            contentType,
            body: decodeBody(res.bytes, contentType),
          };
        }
        if (res.status === 403) throw new BlockedError(`${res.url}: HTTP 403`);
        if (!RETRYABLE_STATUSES.has(res.status)) {
          throw new SourceUnavailableError(`${res.url}: HTTP ${res.status}`, res.status);
        }
        retryAfterMs = parseRetryAfter(res.headers['retry-after'], now());
      }

      const giveUp = (): Error => {
        if (failure) return new SourceUnavailableError(failure.message);
        const status = res?.status;
        if (status === 429) {
          return new RateLimitedError(`${url}: HTTP 429`, retryAfterMs ?? defaultRetryAfterMs);
        }
        return new SourceUnavailableError(`${url}: HTTP ${status}`, status);
      };

      if (retryAfterMs !== null && retryAfterMs > maxRetryAfterMs) throw giveUp();
      if (attempt >= retries) throw giveUp();
      await sleep(retryAfterMs ?? backoffWithJitterMs(attempt, backoffBaseMs, backoffMaxMs, random), signal);
    }
  }

  return {
    get,
    setHostRate(host: string, perSecond: number) {
      hostRates.set(host, perSecond);
    },
    async close() {
      if (ownsDispatcher) await dispatcher.close();
    },
  };
}

/**
 * Delay before retry number `retry` (0 for the first): the base doubled per retry, capped, with equal
 * jitter (half fixed, half random) so that many clients retrying at once do not line up. Crawl fetches
 * and webhook deliveries both back off this way.
 */
export function backoffWithJitterMs(retry: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** retry);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
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

/** Milliseconds to wait, from seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | null {
  if (value === undefined) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - nowMs);
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

function decompress(body: Buffer, encoding: string | undefined, maxBytes: number, url: URL): Uint8Array {
  const coding = encoding?.trim().toLowerCase();
  if (!coding || coding === 'identity' || body.length === 0) return body;
  try {
    if (coding === 'gzip' || coding === 'x-gzip') return gunzipSync(body, { maxOutputLength: maxBytes });
    if (coding === 'deflate') return inflateSync(body, { maxOutputLength: maxBytes });
    if (coding === 'br') return brotliDecompressSync(body, { maxOutputLength: maxBytes });
  } catch (err) {
    throw new SourceUnavailableError(`${url.href}: cannot decompress ${coding} body: ${describeError(err)}`);
  }
  throw new SourceUnavailableError(`${url.href}: unsupported content-encoding ${coding}`);
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
    throw new SourceUnavailableError(`invalid URL: ${value}`);
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
