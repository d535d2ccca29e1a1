/**
 * A local Usedesk API, built from the documented request and response shapes (api.usedocs.ru / api.usedocs.com:
 * create/ticket, update/ticket, create/comment, tickets, and the API channel's "change ticket" webhook). No
 * recording of the real service exists. Where the docs show no example, the answers here are assumptions: a
 * wrong api_token gets HTTP 401 {"error": …}; a validation error (missing field, unknown ticket) gets HTTP 200
 * with {"status": "error", "error": …}, the "200 with an error body" the connector must also handle.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';

export interface FakeUsedeskTicket {
  id: number;
  subject: string;
  message: string;
  additional_id: string | null;
  priority: string;
  status_id: number;
  tag: string | null;
  client_id: number | null;
  client_name: string | null;
  client_email: string | null;
  channel_id: number | null;
  group_id: number | null;
  from: string | null;
  published_at: Date;
  /** The create request's body as received (without api_token). */
  body: Record<string, unknown>;
}

export interface FakeUsedeskComment {
  id: number;
  ticket_id: number;
  message: string;
  type: string;
  body: Record<string, unknown>;
}

export interface FakeUsedeskRequest {
  path: string;
  body: Record<string, unknown> | null;
  /** What the fake answered. */
  status: number;
}

export interface UsedeskFake {
  url: string;
  tickets: FakeUsedeskTicket[];
  comments: FakeUsedeskComment[];
  updates: { ticket_id: number; body: Record<string, unknown> }[];
  requests: FakeUsedeskRequest[];
  /** Runs after a ticket is stored, before the answer; when it throws, the connection is cut with no answer. */
  onCreate?: (ticket: FakeUsedeskTicket) => void | Promise<void>;
  setDown(down: boolean): void;
  rateLimitNext(n: number, retryAfterSeconds: number): void;
  /** Posts the documented "change ticket" JSON to our receiver, as Usedesk does to the Redirect URL; the HTTP status. */
  sendWebhook(redirectUrl: string, ticketId: number, newStatus: number): Promise<number>;
  close(): Promise<void>;
}

const PRIORITIES = new Set(['low', 'medium', 'urgent', 'extreme']);

export async function startUsedeskFake(opts: {
  token: string;
  onCreate?: UsedeskFake['onCreate'];
  /** The clock that stamps tickets (and the created_after filter reads): a test's fixed time. */
  now?: () => Date;
}): Promise<UsedeskFake> {
  const now = opts.now ?? (() => new Date());
  let down = false;
  let limited = 0;
  let retryAfter = 1;
  let nextTicketId = 2_261_900;
  let nextCommentId = 2_658_280;
  let nextEventId = 213_660;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0]!.replace(/^\/+/, '');
      const body = parseBody(Buffer.concat(chunks).toString('utf8'), req.headers['content-type']);
      const entry: FakeUsedeskRequest = { path, body: body && withoutToken(body), status: 0 };
      fake.requests.push(entry);
      const answer = (status: number, json: unknown, headers: Record<string, string> = {}) => {
        entry.status = status;
        send(res, status, json, headers);
      };
      if (down) return answer(503, { error: 'Service Unavailable' });
      if (limited > 0) {
        limited--;
        return answer(429, { error: 'Too Many Requests' }, { 'retry-after': String(retryAfter) });
      }
      if (req.method !== 'POST') return answer(405, { error: 'Method Not Allowed' });
      if (body === null) return answer(400, { error: 'Bad Request' });
      if (body.api_token !== opts.token) return answer(401, { error: 'Invalid api_token' });
      handle(path, body, answer).catch(() => res.destroy());
    });
  });

  async function handle(path: string, body: Record<string, unknown>, answer: (status: number, json: unknown) => void): Promise<void> {
    const fields = withoutToken(body);
    const invalid = (error: string) => answer(200, { status: 'error', error });
    switch (path) {
      case 'create/ticket': {
        if (typeof body.subject !== 'string' || body.subject === '') return invalid('The subject field is required.');
        if (typeof body.message !== 'string' || body.message === '') return invalid('The message field is required.');
        if (body.priority !== undefined && !PRIORITIES.has(String(body.priority))) return invalid('The selected priority is invalid.');
        const ticket: FakeUsedeskTicket = {
          id: nextTicketId++,
          subject: body.subject,
          message: body.message,
          additional_id: body.additional_id === undefined ? null : String(body.additional_id),
          priority: body.priority === undefined ? 'medium' : String(body.priority),
          status_id: body.status === undefined ? 8 : Number(body.status),
          tag: typeof body.tag === 'string' ? body.tag : null,
          client_id: typeof body.client_id === 'number' ? body.client_id : null,
          client_name: typeof body.client_name === 'string' ? body.client_name : null,
          client_email: typeof body.client_email === 'string' ? body.client_email : null,
          channel_id: typeof body.channel_id === 'number' ? body.channel_id : null,
          group_id: typeof body.group_id === 'number' ? body.group_id : null,
          from: typeof body.from === 'string' ? body.from : null,
          published_at: now(),
          body: fields,
        };
        fake.tickets.push(ticket);
        await fake.onCreate?.(ticket);
        return answer(200, { status: 'success', ticket_id: ticket.id });
      }
      case 'update/ticket': {
        const ticket = findTicket(body.ticket_id);
        if (!ticket) return invalid('Ticket not found');
        if (body.priority !== undefined && !PRIORITIES.has(String(body.priority))) return invalid('The selected priority is invalid.');
        fake.updates.push({ ticket_id: ticket.id, body: fields });
        if (body.status !== undefined) ticket.status_id = Number(body.status);
        if (body.priority !== undefined) ticket.priority = String(body.priority);
        if (typeof body.group_id === 'number') ticket.group_id = body.group_id;
        // Without `silent`, an API action on a New ticket moves it to Open (documented under update/ticket).
        if (body.status === undefined && !isTrue(body.silent) && ticket.status_id === 8) ticket.status_id = 1;
        return answer(200, { status: 'success', ticket_id: ticket.id });
      }
      case 'create/comment': {
        const ticket = findTicket(body.ticket_id);
        if (!ticket) return invalid('Ticket not found');
        if (typeof body.message !== 'string' || body.message === '') return invalid('The message field is required.');
        if (body.from === 'user' && body.user_id === undefined) return invalid('The user_id field is required when from is user.');
        const comment = { id: nextCommentId++, ticket_id: ticket.id, message: body.message, type: body.type === 'public' ? 'public' : 'private', body: fields };
        fake.comments.push(comment);
        return answer(200, { status: 'success', comment_id: comment.id });
      }
      case 'tickets': {
        const query = typeof body.query === 'string' ? body.query.toLowerCase() : null;
        const after = typeof body.created_after === 'string' ? Date.parse(`${body.created_after.replace(' ', 'T')}Z`) : null;
        const statuses = typeof body.fstatus === 'string' ? new Set(body.fstatus.split(',').map((s) => Number(s.trim()))) : null;
        const offset = typeof body.offset === 'number' ? body.offset : Number(body.offset ?? 0);
        const found = fake.tickets
          .filter((t) => query === null || t.subject.toLowerCase().includes(query) || t.message.toLowerCase().includes(query))
          .filter((t) => after === null || t.published_at.getTime() >= after)
          .filter((t) => statuses === null || statuses.has(t.status_id))
          .slice(offset, offset + 100);
        // Ids as strings, as the documented examples show them.
        return answer(200, found.map((t) => ({
          id: String(t.id), status_id: String(t.status_id), subject: t.subject, priority: t.priority,
          client_id: t.client_id === null ? null : String(t.client_id), additional_id: t.additional_id,
          group: String(t.group_id ?? 0), channel_id: t.channel_id === null ? null : String(t.channel_id),
          published_at: formatDate(t.published_at), last_updated_at: formatDate(t.published_at),
        })));
      }
      default:
        return answer(404, { error: 'Not Found' });
    }
  }

  const findTicket = (id: unknown) => fake.tickets.find((t) => String(t.id) === String(id));

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const fake: UsedeskFake = {
    url: `http://127.0.0.1:${port}`,
    tickets: [],
    comments: [],
    updates: [],
    requests: [],
    onCreate: opts.onCreate,
    setDown: (value) => {
      down = value;
    },
    rateLimitNext: (n, seconds) => {
      limited = n;
      retryAfter = seconds;
    },
    sendWebhook: async (redirectUrl, ticketId, newStatus) => {
      const ticket = findTicket(ticketId);
      const oldStatus = ticket?.status_id ?? 1;
      if (ticket) ticket.status_id = newStatus;
      const res = await request(redirectUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          secret: opts.token,
          id: String(nextEventId++),
          trigger_id: null,
          user_id: '6339',
          ticket_id: String(ticketId),
          data: [{ target: 'status', value: String(newStatus), old_value: String(oldStatus) }],
          changed_at: formatDate(now()),
          old_status: String(oldStatus),
          new_status: String(newStatus),
          company_id: '153561',
        }),
      });
      await res.body.dump();
      return res.statusCode;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  return fake;
}

function parseBody(text: string, contentType: string | undefined): Record<string, unknown> | null {
  try {
    if (contentType?.includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(text));
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function withoutToken(body: Record<string, unknown>): Record<string, unknown> {
  const { api_token: _token, ...rest } = body;
  return rest;
}

function isTrue(value: unknown): boolean {
  return value === true || value === 1 || value === '1' || value === 'true';
}

/** Usedesk's 'YYYY-MM-DD HH:MM:SS' (UTC). */
function formatDate(date: Date): string {
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

function send(res: ServerResponse, status: number, json: unknown, headers: Record<string, string>): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(json));
}
