/**
 * A local Zendesk Ticketing API, built from Zendesk's documented request and response shapes: no recording of
 * the real service exists. It covers what earshot uses: Basic auth with an API token, create with
 * Idempotency-Key, List Tickets (by external_id, offset-paginated), update, show, Add Tags, and a trigger webhook
 * signed as Zendesk signs it. The bodies of 429 and 503
 * are not documented; it answers a short JSON error for both.
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';

export interface FakeZendeskComment {
  id: number;
  html_body: string | null;
  body: string | null;
  public: boolean;
  created_at: string;
}

export interface FakeZendeskTicket {
  id: number;
  external_id: string | null;
  subject: string | null;
  type: string | null;
  status: string;
  priority: string | null;
  tags: string[];
  group_id: number | null;
  requester: { name?: string; email?: string } | null;
  comments: FakeZendeskComment[];
  created_at: string;
  updated_at: string;
}

export interface FakeZendeskRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** What the fake answered, and its x-idempotency-lookup when it set one. */
  status?: number;
  idempotencyLookup?: 'hit' | 'miss';
}

const STATUSES = ['new', 'open', 'pending', 'hold', 'solved', 'closed'];
const PRIORITIES = ['low', 'normal', 'high', 'urgent'];
const TYPES = ['problem', 'incident', 'question', 'task'];
// What {{ticket.status}} renders: the status as agents see it.
const STATUS_LABELS: Record<string, string> = {
  new: 'New', open: 'Open', pending: 'Pending', hold: 'On-hold', solved: 'Solved', closed: 'Closed',
};

type TicketInput = Record<string, unknown> & { comment?: { body?: unknown; html_body?: unknown; public?: unknown } };

export async function startZendeskFake(opts: { email: string; token: string; webhookSecret: string; now?: () => Date }) {
  const now = opts.now ?? (() => new Date());
  const tickets = new Map<number, FakeZendeskTicket>();
  const requests: FakeZendeskRequest[] = [];
  const keys = new Map<string, { body: string; ticketId: number }>();
  const expectedAuth = `Basic ${Buffer.from(`${opts.email}/token:${opts.token}`).toString('base64')}`;
  let down: { retryAfterSeconds: number | null } | null = null;
  let limited = { remaining: 0, retryAfterSeconds: 0 };
  let nextTicketId = 1;
  let nextCommentId = 1;

  const fake = {
    url: '',
    tickets,
    requests,
    /** Called after a create is stored and before it is answered; 'drop' closes the connection unanswered. */
    onCreate: undefined as ((ticket: FakeZendeskTicket) => void | 'drop') | undefined,
    setDown(isDown: boolean, retryAfterSeconds: number | null = null) {
      down = isDown ? { retryAfterSeconds } : null;
    },
    rateLimitNext(n: number, retryAfterSeconds: number) {
      limited = { remaining: n, retryAfterSeconds };
    },
    /** Posts the documented trigger body for this ticket, signed; returns the receiver's HTTP status. */
    async sendWebhook(receiverUrl: string, ticketId: number, signWith = opts.webhookSecret): Promise<number> {
      const t = tickets.get(ticketId);
      if (!t) throw new Error(`no ticket ${ticketId}`);
      const text = (v: string) => JSON.stringify(v).slice(1, -1);
      const body = `{"ticket_id":"${t.id}","external_id":"${text(t.external_id ?? '')}","status":"${STATUS_LABELS[t.status]}"}`;
      const timestamp = now().toISOString().replace(/\.\d{3}Z$/, 'Z');
      const signature = createHmac('sha256', signWith).update(timestamp + body).digest('base64');
      const res = await request(receiverUrl, {
        method: 'POST',
        body,
        headers: {
          'content-type': 'application/json',
          'x-zendesk-webhook-signature': signature,
          'x-zendesk-webhook-signature-timestamp': timestamp,
        },
      });
      await res.body.dump();
      return res.statusCode;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const record: FakeZendeskRequest = {
        method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(record);
      const answer = (status: number, json: unknown, headers: Record<string, string> = {}) => {
        record.status = status;
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
        res.end(JSON.stringify(json));
      };
      handle(record, res, answer);
    });
  });

  function handle(r: FakeZendeskRequest, res: ServerResponse, answer: (status: number, json: unknown, headers?: Record<string, string>) => void) {
    if (down) {
      return answer(503, { error: 'ServiceUnavailable' }, down.retryAfterSeconds === null ? {} : { 'retry-after': String(down.retryAfterSeconds) });
    }
    if (limited.remaining > 0) {
      limited.remaining -= 1;
      return answer(429, { error: 'TooManyRequests' }, { 'retry-after': String(limited.retryAfterSeconds) });
    }
    if (r.headers.authorization !== expectedAuth) return answer(401, { error: "Couldn't authenticate you" });

    const path = r.path.split('?')[0]!;
    const one = /^\/api\/v2\/tickets\/(\d+)\.json$/.exec(path);
    const tags = /^\/api\/v2\/tickets\/(\d+)\/tags(?:\.json)?$/.exec(path);
    if (tags && r.method === 'PUT') {
      const ticket = tickets.get(Number(tags[1]));
      if (!ticket) return answer(404, { error: 'RecordNotFound', description: 'Not found' });
      const added = (readJson(r.body) as { tags?: unknown } | null)?.tags;
      if (!Array.isArray(added)) return answer(400, { error: 'InvalidValue', description: 'tags must be an array' });
      ticket.tags = [...new Set([...ticket.tags, ...added.map(String)])];
      return answer(200, { tags: ticket.tags });
    }
    if (r.method === 'POST' && path === '/api/v2/tickets.json') return create(r, res, answer);
    if (r.method === 'GET' && (path === '/api/v2/tickets.json' || path === '/api/v2/tickets')) return list(r, answer);
    if (one && (r.method === 'GET' || r.method === 'PUT')) {
      const ticket = tickets.get(Number(one[1]));
      if (!ticket) return answer(404, { error: 'RecordNotFound', description: 'Not found' });
      if (r.method === 'GET') return answer(200, { ticket: show(ticket) });
      return update(ticket, r, answer);
    }
    return answer(404, { error: 'InvalidEndpoint', description: 'Not found' });
  }

  function create(r: FakeZendeskRequest, res: ServerResponse, answer: (status: number, json: unknown, headers?: Record<string, string>) => void) {
    const key = r.headers['idempotency-key'] as string | undefined;
    const earlier = key === undefined ? undefined : keys.get(key);
    if (earlier) {
      if (earlier.body !== r.body) {
        return answer(400, { error: 'IdempotentRequestError', description: "Request parameters don't match the given idempotency key" });
      }
      r.idempotencyLookup = 'hit';
      return answer(201, { ticket: show(tickets.get(earlier.ticketId)!) }, { 'x-idempotency-lookup': 'hit' });
    }
    const input = readTicket(r.body);
    const invalid = input === null ? 'body must be {"ticket": {...}}' : validate(input, true);
    if (invalid !== null) return answer(422, recordInvalid(invalid));
    const at = now().toISOString();
    const ticket: FakeZendeskTicket = {
      id: nextTicketId++,
      external_id: typeof input!.external_id === 'string' ? input!.external_id : null,
      subject: typeof input!.subject === 'string' ? input!.subject : null,
      type: typeof input!.type === 'string' ? input!.type : null,
      status: typeof input!.status === 'string' ? input!.status : 'new',
      priority: typeof input!.priority === 'string' ? input!.priority : null,
      tags: Array.isArray(input!.tags) ? input!.tags.map(String) : [],
      group_id: typeof input!.group_id === 'number' ? input!.group_id : null,
      requester: (input!.requester as FakeZendeskTicket['requester']) ?? null,
      comments: [],
      created_at: at,
      updated_at: at,
    };
    addComment(ticket, input!.comment!);
    tickets.set(ticket.id, ticket);
    if (key !== undefined) keys.set(key, { body: r.body, ticketId: ticket.id });
    if (fake.onCreate?.(ticket) === 'drop') {
      res.destroy();
      return;
    }
    if (key !== undefined) r.idempotencyLookup = 'miss';
    answer(201, { ticket: show(ticket) }, key === undefined ? {} : { 'x-idempotency-lookup': 'miss' });
  }

  /** List Tickets: by id, 100 a page; external_id filters (it need not be unique, so several may match). */
  function list(r: FakeZendeskRequest, answer: (status: number, json: unknown) => void) {
    const query = new URL(r.path, 'http://fake').searchParams;
    const externalId = query.get('external_id');
    const page = Number(query.get('page') ?? '1');
    if (!Number.isInteger(page) || page < 1) return answer(400, { error: 'InvalidPaginationParameter', description: 'page must be a positive integer' });
    const matching = [...tickets.values()]
      .filter((t) => externalId === null || t.external_id === externalId)
      .sort((a, b) => a.id - b.id);
    const perPage = 100;
    const pageUrl = (n: number) => {
      const q = new URLSearchParams(query);
      q.set('page', String(n));
      return `${fake.url}/api/v2/tickets.json?${q}`;
    };
    answer(200, {
      tickets: matching.slice((page - 1) * perPage, page * perPage).map(show),
      next_page: page * perPage < matching.length ? pageUrl(page + 1) : null,
      previous_page: page > 1 ? pageUrl(page - 1) : null,
      count: matching.length,
    });
  }

  function update(ticket: FakeZendeskTicket, r: FakeZendeskRequest, answer: (status: number, json: unknown) => void) {
    const input = readTicket(r.body);
    const invalid = input === null ? 'body must be {"ticket": {...}}' : validate(input, false);
    if (invalid !== null) return answer(422, recordInvalid(invalid));
    if (ticket.status === 'closed') return answer(422, recordInvalid('Status: closed prevents ticket update'));
    if (input!.status === 'new' && ticket.status !== 'new') return answer(422, recordInvalid('Status: cannot go back to new'));
    if (typeof input!.status === 'string') ticket.status = input!.status;
    if (typeof input!.priority === 'string') ticket.priority = input!.priority;
    if (typeof input!.group_id === 'number') ticket.group_id = input!.group_id;
    if (Array.isArray(input!.tags)) ticket.tags = input!.tags.map(String);
    // additional_tags and remove_tags only work on Update Many: a single update ignores them.
    if (input!.external_id !== undefined) ticket.external_id = input!.external_id === null ? null : String(input!.external_id);
    if (input!.comment) addComment(ticket, input!.comment);
    ticket.updated_at = now().toISOString();
    answer(200, { ticket: show(ticket) });
  }

  function addComment(ticket: FakeZendeskTicket, c: NonNullable<TicketInput['comment']>) {
    ticket.comments.push({
      id: nextCommentId++,
      html_body: typeof c.html_body === 'string' ? c.html_body : null,
      body: typeof c.body === 'string' ? c.body : null,
      public: c.public !== false,
      created_at: now().toISOString(),
    });
  }

  function show(t: FakeZendeskTicket) {
    const { comments, requester, ...rest } = t;
    return { url: `${fake.url}/api/v2/tickets/${t.id}.json`, ...rest, requester_id: 1000 + t.id, description: comments[0]?.body ?? comments[0]?.html_body ?? '' };
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}

function readJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return null;
  }
}

function readTicket(body: string): TicketInput | null {
  const ticket = (readJson(body) as { ticket?: unknown } | null)?.ticket;
  return typeof ticket === 'object' && ticket !== null && !Array.isArray(ticket) ? (ticket as TicketInput) : null;
}

/** The checks that catch a connector's mistakes: values outside Zendesk's enums, a create without a comment. */
function validate(t: TicketInput, creating: boolean): string | null {
  if (creating && (typeof t.comment !== 'object' || t.comment === null)) return 'Description: cannot be blank';
  if (t.comment && typeof t.comment.body !== 'string' && typeof t.comment.html_body !== 'string') return 'Comment: body is blank';
  if (t.status !== undefined && !STATUSES.includes(t.status as string)) return `Status: ${String(t.status)} is not valid`;
  if (t.priority !== undefined && !PRIORITIES.includes(t.priority as string)) return `Priority: ${String(t.priority)} is not valid`;
  if (t.type !== undefined && !TYPES.includes(t.type as string)) return `Type: ${String(t.type)} is not valid`;
  return null;
}

function recordInvalid(description: string) {
  return { error: 'RecordInvalid', description: 'Record validation errors', details: { base: [{ description }] } };
}
