/**
 * A local Telegram Bot API (`POST /bot<token>/sendMessage` only), built from the documented Bot API shapes:
 * every answer is `{ ok: true, result }` or `{ ok: false, error_code, description, parameters? }`, a flood-control
 * 429 carries `parameters.retry_after` (seconds), `text` is 1-4096 characters, and parse_mode HTML takes only the
 * documented tags (b, strong, i, em, u, ins, s, strike, del, a href, code, pre, blockquote, tg-spoiler,
 * span class="tg-spoiler") and the named entities &lt; &gt; &amp; &quot; plus numeric ones. No recording of the
 * real service exists. Assumptions where the docs show no example: the exact description strings, and that a
 * wrong token is HTTP 401 "Unauthorized", an unknown chat 400 "Bad Request: chat not found", a blocked bot 403.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeTelegramMessage {
  chat_id: string | number;
  text: string;
  parse_mode: string | null;
  message_id: number;
  /** The fake's clock when it was accepted (ms). */
  at: number;
  /** The request body as received. */
  body: Record<string, unknown>;
}

export interface FakeTelegramRequest {
  /** The path with the token replaced by `<token>`. */
  path: string;
  body: Record<string, unknown> | null;
  status: number;
}

export interface TelegramFake {
  url: string;
  messages: FakeTelegramMessage[];
  requests: FakeTelegramRequest[];
  setDown(down: boolean): void;
  close(): Promise<void>;
}

const ALLOWED_TAGS = new Set(['b', 'strong', 'i', 'em', 'u', 'ins', 's', 'strike', 'del', 'a', 'code', 'pre', 'blockquote', 'tg-spoiler', 'span']);
const NAMED_ENTITIES = new Set(['lt', 'gt', 'amp', 'quot']);

/** Null when the text parses as Telegram HTML; else why not. */
export function checkTelegramHtml(text: string): string | null {
  const open: string[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '&') {
      const m = /^&(#\d+|#x[0-9a-f]+|[a-z]+);/i.exec(text.slice(i, i + 12));
      if (!m) return `unsupported entity at ${i}`;
      const name = m[1]!;
      if (!name.startsWith('#') && !NAMED_ENTITIES.has(name)) return `unsupported entity &${name}; at ${i}`;
      i += m[0].length;
    } else if (c === '<') {
      const end = text.indexOf('>', i);
      if (end < 0) return `unclosed start tag at ${i}`;
      const inner = text.slice(i + 1, end);
      const close = /^\/([a-z-]+)\s*$/i.exec(inner);
      if (close) {
        if (open.pop() !== close[1]!.toLowerCase()) return `unmatched end tag </${close[1]}> at ${i}`;
      } else {
        const start = /^([a-z-]+)((?:\s+[a-z-]+="[^"<>]*")*)\s*$/i.exec(inner);
        if (!start) return `bad tag at ${i}`;
        const tag = start[1]!.toLowerCase();
        if (!ALLOWED_TAGS.has(tag)) return `unsupported start tag "${tag}" at ${i}`;
        const attrs = start[2] ?? '';
        if (tag === 'a' && !/\shref="[^"]+"/.test(attrs)) return `<a> without href at ${i}`;
        if (tag === 'span' && !/\sclass="tg-spoiler"/.test(attrs)) return `<span> without class="tg-spoiler" at ${i}`;
        open.push(tag);
      }
      i = end + 1;
    } else if (c === '>') {
      i++; // a bare ">" is tolerated, as in HTML
    } else {
      i++;
    }
  }
  return open.length > 0 ? `unclosed <${open.at(-1)}>` : null;
}

export async function startTelegramFake(opts: {
  token: string;
  /** Chats that exist; any other chat id is "chat not found". Default: every chat exists. */
  chats?: readonly (string | number)[];
  /** Chats where the bot was blocked or kicked: 403. */
  blockedChats?: readonly (string | number)[];
  /** Flood control: at most one message per second per chat, by this clock. */
  limitPerChatPerSecond?: boolean;
  now?: () => number;
}): Promise<TelegramFake> {
  const now = opts.now ?? Date.now;
  const known = opts.chats ? new Set(opts.chats.map(String)) : null;
  const blocked = new Set((opts.blockedChats ?? []).map(String));
  const lastAt = new Map<string, number>();
  let down = false;
  let nextMessageId = 4101;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: Record<string, unknown> | null = null;
      try {
        const parsed: unknown = JSON.parse(raw);
        if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
      } catch {
        body = null;
      }
      const m = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec((req.url ?? '/').split('?')[0]!);
      const entry: FakeTelegramRequest = { path: m ? `/bot<token>/${m[2]}` : (req.url ?? '/'), body, status: 0 };
      fake.requests.push(entry);
      const answer = (status: number, json: unknown) => {
        entry.status = status;
        send(res, status, json);
      };
      const error = (code: number, description: string, parameters?: Record<string, unknown>) =>
        answer(code, { ok: false, error_code: code, description, ...(parameters ? { parameters } : {}) });

      if (down) return answer(502, { ok: false, error_code: 502, description: 'Bad Gateway' });
      if (!m || m[1] !== opts.token) return error(401, 'Unauthorized');
      if (m[2] !== 'sendMessage') return error(404, 'Not Found: method not found');
      if (req.method !== 'POST' || body === null) return error(400, 'Bad Request: message text is empty');
      const chatId = body.chat_id;
      if (typeof chatId !== 'string' && typeof chatId !== 'number') return error(400, 'Bad Request: chat_id is empty');
      const text = body.text;
      if (typeof text !== 'string' || text === '') return error(400, 'Bad Request: message text is empty');
      const chat = String(chatId);
      if (known && !known.has(chat)) return error(400, 'Bad Request: chat not found');
      if (blocked.has(chat)) return error(403, 'Forbidden: bot was blocked by the user');
      if (text.length > 4096) return error(400, 'Bad Request: message is too long');
      const parseMode = typeof body.parse_mode === 'string' ? body.parse_mode : null;
      if (parseMode !== null && parseMode !== 'HTML') return error(400, `Bad Request: unsupported parse_mode ${parseMode} in this fake`);
      if (parseMode === 'HTML') {
        const problem = checkTelegramHtml(text);
        if (problem !== null) return error(400, `Bad Request: can't parse entities: ${problem}`);
      }
      const at = now();
      if (opts.limitPerChatPerSecond) {
        const previous = lastAt.get(chat);
        if (previous !== undefined && at - previous < 1000) {
          const retryAfter = Math.max(1, Math.ceil((previous + 1000 - at) / 1000));
          return error(429, `Too Many Requests: retry after ${retryAfter}`, { retry_after: retryAfter });
        }
      }
      lastAt.set(chat, at);
      const message: FakeTelegramMessage = { chat_id: chatId, text, parse_mode: parseMode, message_id: nextMessageId++, at, body };
      fake.messages.push(message);
      return answer(200, {
        ok: true,
        result: {
          message_id: message.message_id,
          date: Math.floor(at / 1000),
          chat: { id: typeof chatId === 'number' ? chatId : chat.startsWith('@') ? -1001234567890 : Number(chat), type: chat.startsWith('-') || chat.startsWith('@') ? 'supergroup' : 'private' },
          text,
        },
      });
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const fake: TelegramFake = {
    url: `http://127.0.0.1:${port}`,
    messages: [],
    requests: [],
    setDown: (value) => {
      down = value;
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  return fake;
}

function send(res: ServerResponse, status: number, json: unknown): void {
  const text = JSON.stringify(json);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
