/**
 * Query parameters and form fields that carry credentials, by name: `key`, `api_key`, `apikey`, any `…_key`,
 * anything with `token`, `secret` or `passw` in it, `sig`, `signature`, `auth`, `pwd` (VK's access_token,
 * 2GIS's key, a misplaced ?api_key=). Never shown in logs or errors, and trimmed from recordings.
 */
const SECRET_PARAM = /^(key|apikey|sig|signature|auth|pwd|credentials?)$|[_-]key$|token|secret|passw/i;

export function isSecretParam(name: string): boolean {
  return SECRET_PARAM.test(name);
}
/** `?name=value` or `&name=value` in a URL, wherever it stands in a text; a value ends only where a URL's would. */
const QUERY_PAIR = /([?&]([^?&=#\s]+)=)([^&#\s]*)/g;
/** An earshot API key, whatever carries it. */
const API_KEY = /esk_[A-Za-z0-9_-]+/g;

/**
 * A text fit for a log line (a URL, a message, an error's stack): the values of query parameters named like a
 * credential (`api_key`, `access_token`, `client_secret`, `password`, `signature`, …) and every earshot API key
 * (`esk_…`, however it is sent) replaced by `[redacted]`. Other query values stay, so a line still says which
 * page or filter was asked for.
 */
export function redactSecrets(text: string): string {
  return text
    .replace(QUERY_PAIR, (pair, head: string, name: string) => (isSecretParam(formDecoded(name) ?? name) ? `${head}[redacted]` : pair))
    .replace(API_KEY, 'esk_[redacted]');
}

/** A query or form name or value percent-decoded (`+` as a space); null when it is not valid UTF-8 percent-encoding. */
export function formDecoded(text: string): string | null {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    return null;
  }
}
