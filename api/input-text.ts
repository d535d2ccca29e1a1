import { isUtf8 } from 'node:buffer';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { findUnstorableText } from '../lib/storable-text.ts';
import { formDecoded } from '../log/redact.ts';
import { sendProblem } from './errors.ts';

/**
 * Text the API takes in is checked once, here, before any route validates it: PostgreSQL refuses a NUL
 * character in text (error 22021), and UTF-8 cannot hold a lone surrogate, so such a string would fail in the
 * store as a 500. It is refused at the edge instead, as a 400 that names the field:
 * - the query string's raw percent-encoding must decode to UTF-8 (fastify keeps "%FF" as those three
 *   characters instead);
 * - a JSON body's bytes must be UTF-8 (fastify would turn bad bytes into U+FFFD silently);
 * - every string of the query, the path parameters and the body, keys included, must be well-formed
 *   UTF-16 without U+0000.
 * An invalid percent-encoding in the path never reaches this: the router refuses it (FST_ERR_BAD_URL, errors.ts).
 */
export function installInputTextChecks(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body: Buffer, done) => {
    if (!isUtf8(body)) {
      done(Object.assign(new Error('body: not valid UTF-8'), { statusCode: 400 }), undefined);
      return;
    }
    parseJson(request, body.toString('utf8'), done);
  });

  app.addHook('preValidation', async (request, reply) => {
    const problem = checkQueryEncoding(request.url) ?? checkStrings(request);
    if (problem !== null) {
      return sendProblem(request, reply, 400, `${problem.path}: ${problem.message}`, [problem]);
    }
    return undefined;
  });
}

interface TextProblem {
  path: string;
  message: string;
}

/** The first string of the query, the path parameters or the body that the store could not keep; null when none. */
function checkStrings(request: FastifyRequest): TextProblem | null {
  for (const [root, value] of [['querystring', request.query], ['params', request.params], ['body', request.body]] as const) {
    const [first] = findUnstorableText(value);
    if (first !== undefined) return { path: [root, ...first.path.map((segment) => printable(String(segment)))].join('.'), message: first.message };
  }
  return null;
}

/** Each `name=value` of the raw query string must percent-decode to UTF-8. */
function checkQueryEncoding(url: string): TextProblem | null {
  const mark = url.indexOf('?');
  if (mark < 0) return null;
  for (const pair of url.slice(mark + 1).split('&')) {
    const eq = pair.indexOf('=');
    const rawName = eq < 0 ? pair : pair.slice(0, eq);
    const name = formDecoded(rawName);
    if (name === null) return { path: `querystring.${rawName}`, message: 'the name is not valid percent-encoded UTF-8' };
    if (eq >= 0 && formDecoded(pair.slice(eq + 1)) === null) {
      return { path: `querystring.${printable(name)}`, message: 'not valid percent-encoded UTF-8' };
    }
  }
  return null;
}

/** A field name fit for a message: a NUL or lone surrogate in it shown as an escape. */
function printable(name: string): string {
  return name.replace(/\0|\p{Cs}/gu, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
