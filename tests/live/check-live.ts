import { parseArgs } from 'node:util';
import { CrawlerError } from '../../crawlers/errors.ts';
import { createHttpClient } from '../../crawlers/http.ts';
import { createRecorder } from '../../crawlers/record.ts';
import { crawlers, findCrawler } from '../../crawlers/registry.ts';

/**
 * `npm run check:live [-- --record DIR] [source...]`: the real endpoints, on request only (never in `npm test`).
 * Fetches and parses the first page of one well-known public target per source and prints one JSON line per
 * source, so a changed API shows up here before users see an empty inbox. Credentials come from the
 * environment: VK_TOKEN, REDDIT_CLIENT_ID and REDDIT_CLIENT_SECRET. With --record, the raw responses are saved
 * (secrets trimmed) as new fixtures.
 */
const env = process.env;
const samples: Record<string, { params: Record<string, unknown>; credentials?: unknown }> = {
  rss: { params: { googleNews: { query: 'Kaspi', language: 'ru', country: 'KZ' } } },
  'app-store': { params: { appId: env.LIVE_APP_STORE_APP ?? '284815942', country: 'kz' } },
  '2gis': { params: { branchId: env.LIVE_2GIS_BRANCH ?? '70000001067039360', domain: '2gis.ae', locale: 'en_AE' } },
  'google-play': { params: { appId: env.LIVE_GOOGLE_PLAY_APP ?? 'kz.kaspi.mobile', languages: ['ru'], country: 'kz' } },
  telegram: { params: { channel: env.LIVE_TELEGRAM_CHANNEL ?? 'durov' } },
  vk: {
    params: { query: env.LIVE_VK_QUERY ?? 'Kaspi' },
    ...(env.VK_TOKEN ? { credentials: { accessToken: env.VK_TOKEN } } : {}),
  },
  reddit: {
    params: { query: env.LIVE_REDDIT_QUERY ?? 'kaspi' },
    ...(env.REDDIT_CLIENT_ID && env.REDDIT_CLIENT_SECRET
      ? { credentials: { clientId: env.REDDIT_CLIENT_ID, clientSecret: env.REDDIT_CLIENT_SECRET } }
      : {}),
  },
};

const { values, positionals } = parseArgs({ allowPositionals: true, options: { record: { type: 'string' } } });
const chosen = positionals.length > 0 ? positionals : Object.keys(crawlers);
const recorder = values.record ? createRecorder(values.record) : null;
const http = createHttpClient(recorder ? { onExchange: recorder.onExchange, retries: 1 } : { retries: 1 });
let failures = 0;

for (const source of chosen) {
  const crawler = findCrawler(crawlers, source);
  const sample = samples[source];
  if (!crawler || !sample) {
    process.stdout.write(`${JSON.stringify({ source, ok: false, error: crawler ? 'no live sample target' : 'unknown source' })}\n`);
    failures++;
    continue;
  }
  if (crawler.credentials?.required && sample.credentials === undefined) {
    process.stdout.write(`${JSON.stringify({ source, ok: null, skipped: crawler.credentials.hint })}\n`);
    continue;
  }
  const started = Date.now();
  try {
    const params = crawler.target.parse(sample.params);
    const raw = await crawler.fetchPage(params, null, {
      http: http.withRate(crawler.rateLimit.perHostPerSecond),
      now: () => new Date(),
      since: null,
      credentials: sample.credentials,
      cache: new Map(),
    });
    const page = await crawler.parse(raw, { fetchedAt: new Date() });
    const newest = page.mentions.map((m) => m.publishedAt).filter((d) => d !== null).sort().at(-1) ?? null;
    process.stdout.write(
      `${JSON.stringify({ source, ok: true, mentions: page.mentions.length, newest, nextCursor: page.nextCursor !== null, ms: Date.now() - started })}\n`,
    );
  } catch (err) {
    failures++;
    const kind = err instanceof CrawlerError || err instanceof Error ? err.name : typeof err;
    process.stdout.write(`${JSON.stringify({ source, ok: false, errorKind: kind, error: (err as Error).message, ms: Date.now() - started })}\n`);
  }
}
await http.close();
if (recorder) process.stderr.write(`recorded ${recorder.files.length} response(s) in ${values.record}\n`);
process.exit(failures > 0 ? 1 : 0);
