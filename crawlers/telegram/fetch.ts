import { SourceUnavailableError, TargetUnusableError } from '../errors.ts';
import type { FetchDeps, RawPage } from '../types.ts';
import { readCursor, writeCursor } from './cursor.ts';
import type { TelegramCursor, TelegramTarget } from './schema.ts';

/** The web preview of a channel (`/s/{channel}`), one keyword search of it, and the page older than `before`. */
export function buildChannelUrl(target: TelegramTarget, cursor: TelegramCursor): string {
  const url = new URL(`${target.baseUrl.replace(/\/+$/, '')}/s/${encodeURIComponent(target.channel)}`);
  // t.me's own search box sends `q`; a hashtag goes as %23tag, which URLSearchParams does for '#'.
  if (cursor.keyword !== null) url.searchParams.set('q', cursor.keyword);
  if (cursor.before !== null) url.searchParams.set('before', String(cursor.before));
  return url.href;
}

export async function fetchChannelPage(
  target: TelegramTarget,
  cursor: string | null,
  deps: FetchDeps,
): Promise<RawPage> {
  const position = readCursor(cursor, target);
  const url = buildChannelUrl(target, position);
  let res;
  try {
    res = await deps.http.get(url, {
      // English labels ("subscribers", "views") whatever the server guesses from our address.
      headers: { accept: 'text/html,application/xhtml+xml', 'accept-language': 'en-US,en;q=0.8' },
      ...(deps.signal ? { signal: deps.signal } : {}),
    });
  } catch (err) {
    if (err instanceof SourceUnavailableError && err.status === 404) {
      throw new TargetUnusableError(`channel @${target.channel} has no public web preview: ${url} answers HTTP 404; check targets[].params.channel`);
    }
    throw err;
  }
  // The effective cursor, not the one asked for: parse learns the stream (and the keywords after it) from it.
  return { url: res.url, status: res.status, contentType: res.contentType, body: res.body, cursor: writeCursor(position) };
}
