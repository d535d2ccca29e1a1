// The error class is the retry policy: callers branch on `instanceof`, never on messages.

export class CrawlerError extends Error {
  override name = 'CrawlerError';
}

/** Network failure, timeout or 5xx that outlived the retries: try again on the next run with backoff. */
export class SourceUnavailableError extends CrawlerError {
  override name = 'SourceUnavailableError';
  constructor(message: string, readonly status?: number) {
    super(message);
  }
}

/** The source asked us to slow down: reschedule after `retryAfterMs`; not a failure of the target. */
export class RateLimitedError extends CrawlerError {
  override name = 'RateLimitedError';
  constructor(message: string, readonly retryAfterMs: number) {
    super(message);
  }
}

/** Captcha, 403 or a block page: stop and mark the target `needs_action`. */
export class BlockedError extends CrawlerError {
  override name = 'BlockedError';
}

/**
 * The target as configured cannot be crawled, though the source works: a Telegram channel without a web
 * preview, a 2GIS branch id that does not exist, a closed VK community. Someone must change the target.
 */
export class TargetUnusableError extends CrawlerError {
  override name = 'TargetUnusableError';
}

/** The payload no longer matches the crawler's schema: stop and alert maintainers. */
export class SourceChangedError extends CrawlerError {
  override name = 'SourceChangedError';
  constructor(message: string, readonly path?: string) {
    super(message);
  }
}

/** A credential the crawler needs is not configured: disable the target with one clear line. */
export class MissingCredentialsError extends CrawlerError {
  override name = 'MissingCredentialsError';
}

/** A payload path as `reviews[3].date_created`, from zod's list of keys. */
export function formatPayloadPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((acc, key) => {
    if (typeof key === 'number') return `${acc}[${key}]`;
    return acc ? `${acc}.${String(key)}` : String(key);
  }, '');
}

/**
 * The first issue of a failed zod check of a raw payload, as the `SourceChangedError` that names where the
 * payload changed: `${what} changed at ${path}: ${message}`. `prefix` is where the checked value sits.
 */
export function sourceChangedAt(
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>,
  what: string,
  prefix: string | ReadonlyArray<PropertyKey> = '',
): SourceChangedError {
  const issue = issues[0];
  const inner = formatPayloadPath(issue?.path ?? []);
  const head = typeof prefix === 'string' ? prefix : formatPayloadPath(prefix);
  const path = head === '' ? inner : inner === '' ? head : inner.startsWith('[') ? `${head}${inner}` : `${head}.${inner}`;
  return new SourceChangedError(`${what} changed at ${path || '(root)'}: ${issue?.message ?? 'invalid'}`, path);
}
