// The one API client: typed by the paths generated from the server's OpenAPI document (ui/build.ts).
import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './generated/api.ts';

export type Schemas = components['schemas'];
export type Mention = Schemas['Mention'];
export type InboxPage = paths['/api/v1/inbox']['get']['responses'][200]['content']['application/json'];
export type InboxItem = InboxPage['data'][number];
export type TicketSummary = NonNullable<InboxItem['ticket']>;
export type MentionDetail = paths['/api/v1/mentions/{id}']['get']['responses'][200]['content']['application/json'];

let csrfToken: string | null = null;
let onSignedOut: () => void = () => {};

/** The session's CSRF token, echoed on every change; set on sign-in and when the session is read. */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** What to do when the server says the session is gone (expired, signed out elsewhere, disabled). */
export function whenSignedOut(fn: () => void): void {
  onSignedOut = fn;
}

const session: Middleware = {
  onRequest({ request }) {
    if (request.method !== 'GET' && request.method !== 'HEAD' && csrfToken) request.headers.set('x-csrf-token', csrfToken);
    return request;
  },
  onResponse({ request, response }) {
    if (response.status === 401 && !request.url.endsWith('/api/v1/session')) onSignedOut();
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: '', credentials: 'same-origin' });
api.use(session);

/** An API problem's detail, for showing; the problem+json `detail` when there is one. */
export function problemText(error: unknown, fallback: string): string {
  if (error && typeof error === 'object' && 'detail' in error && typeof error.detail === 'string') return error.detail;
  return fallback;
}
