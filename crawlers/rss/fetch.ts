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
  const res = await deps.http.get(buildFeedUrl(target), {
    headers: { accept: FEED_ACCEPT },
    ...(deps.signal ? { signal: deps.signal } : {}),
  });
  return { url: res.url, status: res.status, contentType: res.contentType, body: res.body, cursor };
}
