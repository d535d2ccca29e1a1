/**
 * How earshot waits before trying again, for every outbound call: crawl fetches (crawlers/http.ts) and
 * outbox deliveries (delivery/outbox.ts) both back off this way and both honour the other side's Retry-After.
 */

/**
 * Delay before retry number `retry` (0 for the first): the base doubled per retry, capped, with equal
 * jitter (half fixed, half random) so that many clients retrying at once do not line up.
 */
export function backoffWithJitterMs(retry: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** retry);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** Milliseconds to wait, from seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | readonly string[] | undefined, nowMs: number): number | null {
  const first = Array.isArray(value) ? value[0] : value;
  if (typeof first !== 'string') return null;
  const trimmed = first.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - nowMs);
}
