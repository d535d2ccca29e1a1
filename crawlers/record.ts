import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { formDecoded, isSecretParam } from '../log/redact.ts';
import { decodeBody, redactUrl, type HttpExchange } from './http.ts';
import type { RawPage } from './types.ts';

/** What a recording keeps beside each body: enough to parse it again as the crawler saw it. */
export interface RecordingMeta {
  method: string;
  url: string;
  status: number;
  contentType: string | null;
  headers: Record<string, string>;
  requestBody: string | null;
  recordedAt: string;
}

// Response headers worth keeping; cookies and anything else that may identify the session are dropped.
const KEPT_HEADERS = ['content-type', 'retry-after', 'date', 'last-modified', 'etag', 'location'];
const SECRET_JSON_FIELDS = /("(?:access_token|refresh_token|id_token|client_secret|password)"\s*:\s*")[^"]*(")/g;

/**
 * Record mode (`earshot crawl --record DIR`): every response of a live run is saved as `NNN-host.ext`, with
 * `NNN-host.meta.json` beside it, trimmed of secrets (credential query parameters, tokens in bodies,
 * cookies). `earshot parse <source> NNN-host.ext` then reads the pair back as the page the crawler saw.
 */
export function createRecorder(dir: string, now: () => Date = () => new Date()): { onExchange: (ex: HttpExchange) => void; files: string[] } {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  let n = 0;
  const onExchange = (ex: HttpExchange) => {
    n += 1;
    const host = new URL(ex.url).hostname.replace(/[^a-z0-9.-]/gi, '_');
    const stem = `${String(n).padStart(3, '0')}-${host}`;
    const file = join(dir, `${stem}.${extensionFor(ex.contentType, ex.body)}`);
    const meta: RecordingMeta = {
      method: ex.method,
      url: redactUrl(ex.url),
      status: ex.status,
      contentType: ex.contentType,
      headers: Object.fromEntries(Object.entries(ex.headers).filter(([name]) => KEPT_HEADERS.includes(name))),
      requestBody: ex.requestBody === null ? null : redactFormBody(ex.requestBody),
      recordedAt: now().toISOString(),
    };
    writeFileSync(file, redactBody(ex.body));
    writeFileSync(join(dir, `${stem}.meta.json`), `${JSON.stringify(meta, null, 2)}\n`);
    files.push(file);
  };
  return { onExchange, files };
}

/** A form body with the values of credential fields replaced; everything else stays byte for byte. */
function redactFormBody(body: string): string {
  return body.replace(/(^|&)([^=&]+)=([^&]*)/g, (field, sep: string, name: string) =>
    isSecretParam(formDecoded(name) ?? name) ? `${sep}${name}=***` : field,
  );
}

export function redactBody(body: string): string {
  return body.replace(SECRET_JSON_FIELDS, '$1***$2');
}

/**
 * A saved response as a RawPage: with its `.meta.json` (a recording), the URL, content type and request body
 * it was fetched with; without one, the file's own URL, so parsers never see an invented origin.
 */
export function readRecordedPage(file: string): RawPage {
  const bytes = readFileSync(file);
  const metaFile = join(dirname(file), `${basename(file).replace(/\.[^.]+$/, '')}.meta.json`);
  if (!existsSync(metaFile)) {
    return { url: pathToFileURL(file).href, status: 200, contentType: null, body: decodeBody(bytes, null), cursor: null };
  }
  const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as RecordingMeta;
  return {
    url: meta.url,
    status: meta.status,
    contentType: meta.contentType,
    // Saved as the decoded text, so utf-8 whatever the page's own charset was.
    body: decodeBody(bytes, 'text/plain; charset=utf-8'),
    cursor: null,
    requestBody: meta.requestBody,
  };
}

function extensionFor(contentType: string | null, body: string): string {
  const type = contentType?.toLowerCase() ?? '';
  if (type.includes('json')) return 'json';
  if (type.includes('html')) return 'html';
  if (type.includes('xml') || type.includes('rss') || type.includes('atom')) return 'xml';
  const start = body.trimStart()[0];
  return start === '{' || start === '[' ? 'json' : 'txt';
}
