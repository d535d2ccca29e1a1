import { SourceUnavailableError, TargetUnusableError } from '../errors.ts';
import { redactUrl } from '../http.ts';
import type { HttpResponse } from '../http.ts';
import type { FetchDeps, RawPage } from '../types.ts';
import type { GoogleNewsTarget, RssTarget } from './schema.ts';

const FEED_ACCEPT =
  'application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5';

/**
 * The Google News search feed. hl, gl and ceid must agree or Google answers with an empty feed:
 * ceid is `COUNTRY:language`, and a language tag carrying the same region (`en-US` in `US`) drops it there.
 */
export function buildGoogleNewsUrl(target: GoogleNewsTarget): string {
  const { query, language, country } = target.googleNews;
  const region = country.toUpperCase();
  const [base, ...rest] = language.split('-');
  const ceidLanguage = rest.length === 1 && rest[0]?.toUpperCase() === region ? base : language;
  const root = target.baseUrl.replace(/\/+$/, '');
  return (
    `${root}/rss/search?q=${encodeURIComponent(query)}` +
    `&hl=${encodeURIComponent(language)}&gl=${region}&ceid=${region}:${encodeURIComponent(ceidLanguage ?? language)}`
  );
}

export function buildFeedUrl(target: RssTarget): string {
  return 'url' in target ? target.url : buildGoogleNewsUrl(target);
}

/** One GET of the feed; feeds have no paging, so the cursor is carried through untouched. */
export async function fetchFeed(target: RssTarget, cursor: string | null, deps: FetchDeps): Promise<RawPage> {
  const url = buildFeedUrl(target);
  let res: HttpResponse;
  try {
    res = await deps.http.get(url, {
      headers: { accept: FEED_ACCEPT },
      ...(deps.signal ? { signal: deps.signal } : {}),
    });
  } catch (err) {
    // A feed URL is the user's: these answers will not change by asking again, the URL must. A Google News
    // search is built by earshot, so its errors stay what http.ts makes of them.
    if ('url' in target && err instanceof SourceUnavailableError && err.status !== undefined) {
      const unusable = explainFeedStatus(redactUrl(url), err.status);
      if (unusable) throw unusable;
    }
    throw err;
  }
  return { url: res.url, status: res.status, contentType: res.contentType, body: res.body, cursor };
}

function explainFeedStatus(url: string, status: number): TargetUnusableError | null {
  if (status === 410) {
    return new TargetUnusableError(`${url} answers HTTP 410 (gone): the site has removed this feed for good; remove the target or set targets[].params.url to the feed's new address`);
  }
  if (status === 404) {
    return new TargetUnusableError(`${url} answers HTTP 404 (not found): check targets[].params.url; the feed may have moved or been removed`);
  }
  if (status === 401) {
    return new TargetUnusableError(`${url} answers HTTP 401 (the feed needs a login): earshot reads public feeds only; check targets[].params.url`);
  }
  return null;
}
