/**
 * Failed authentication counted per key (a client address, an email), kept in this process: `limit` failures
 * within `windowMs` of the first hold the key back for `windowMs` from the last of them. Failures made while held
 * back are not counted, so Retry-After is what it says; once the hold ends the count starts again.
 *
 * At most `maxKeys` keys are kept. A key is (re)inserted at the end of the map when its window starts and when
 * its hold starts, and either ends `windowMs` after that, so the map is in the order keys end: ended keys are
 * dropped from the front, and when every kept key is still running the one nearest its end is dropped to make
 * room. An attacker with more addresses than that can push their own keys out, but still needs a fresh address
 * for every `limit` guesses, and the memory stays bounded whatever they do.
 */
export class FailureThrottle {
  private readonly keys = new Map<string, { since: number; failures: number; held: boolean }>();

  constructor(private readonly opts: { limit: number; windowMs: number; maxKeys: number }) {}

  /** Milliseconds until `key` is no longer held back; 0 when it is not. */
  waitFor(key: string, now: number): number {
    const entry = this.keys.get(key);
    return entry?.held ? Math.max(0, entry.since + this.opts.windowMs - now) : 0;
  }

  fail(key: string, now: number): void {
    const entry = this.keys.get(key);
    if (entry && now - entry.since < this.opts.windowMs) {
      if (entry.held) return;
      entry.failures++;
      if (entry.failures >= this.opts.limit) this.insert(key, { since: now, failures: entry.failures, held: true }, now);
      return;
    }
    this.insert(key, { since: now, failures: 1, held: this.opts.limit <= 1 }, now);
  }

  /** A success for `key` (a person signed in): its failures are forgotten. */
  forget(key: string): void {
    this.keys.delete(key);
  }

  /** How many keys are kept. */
  get size(): number {
    return this.keys.size;
  }

  private insert(key: string, entry: { since: number; failures: number; held: boolean }, now: number): void {
    this.keys.delete(key);
    for (const [kept, { since }] of this.keys) {
      if (now - since < this.opts.windowMs) break;
      this.keys.delete(kept);
    }
    if (this.keys.size >= this.opts.maxKeys) this.keys.delete(this.keys.keys().next().value!);
    this.keys.set(key, entry);
  }
}

/** Retry-After in whole seconds, at least 1. */
export function retryAfterSeconds(waitMs: number): string {
  return String(Math.max(1, Math.ceil(waitMs / 1000)));
}
