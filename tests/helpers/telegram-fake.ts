/**
 * A local Telegram Bot API, built from the documented Bot API shapes: `sendMessage`, `editMessageText`,
 * `getUpdates` (long polling) and `answerCallbackQuery`, plus `press` to stand in for a person pressing an inline
 * button (queued for getUpdates, or posted to a webhook with its secret header, as Telegram does).
 *
 * Every answer is `{ ok: true, result }` or `{ ok: false, error_code, description, parameters? }`, a flood-control
 * 429 carries `parameters.retry_after` (seconds), `text` is 1-4096 characters, and parse_mode HTML takes only the
 * documented tags (b, strong, i, em, u, ins, s, strike, del, a href, code, pre, blockquote, tg-spoiler,
 * span class="tg-spoiler") and the named entities &lt; &gt; &amp; &quot; plus numeric ones. callback_data is
 * 1-64 bytes. An edit without reply_markup drops the message's inline keyboard, as Telegram does.
 *
 * No recording of the real service exists. Descriptions as bots meet them (public issue threads):
 * "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as
 * a current content and reply markup of the message", "Bad Request: message to edit not found", "Bad Request:
 * message can't be edited", "Bad Request: query is too old and response timeout expired or query ID is invalid",
 * "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running".
 * Assumptions where nothing shows an example: the other description strings, that a wrong token is HTTP 401
 * "Unauthorized", an unknown chat 400 "Bad Request: chat not found", a blocked bot 403; that "not modified" compares
 * the HTML source (Telegram compares the parsed text and entities); that edits count against flood control.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeInlineButton {
  text: string;
  callback_data?: string;
  url?: string;
}

export interface FakeInlineKeyboard {
  inline_keyboard: FakeInlineButton[][];
}

export interface FakeTelegramMessage {
  chat_id: string | number;
  /** The current text: an edit replaces it. */
  text: string;
  parse_mode: string | null;
  message_id: number;
  /** The current inline keyboard; null when it has none. */
  reply_markup: FakeInlineKeyboard | null;
  /** The fake's clock when it was accepted (ms). */
  at: number;
  /** The fake's clock at the last edit; null if never edited. */
  edited_at: number | null;
  /** Every version of the message, the first sent one first: an edit adds one. */
  versions: { text: string; reply_markup: FakeInlineKeyboard | null; at: number }[];
  /** The request body as received (the send's; an edit's is in `requests`). */
  body: Record<string, unknown>;
}

export interface FakeTelegramRequest {
  /** The path with the token replaced by `<token>`. */
  path: string;
  body: Record<string, unknown> | null;
  status: number;
}

/** A person who presses a button. */
export interface FakeTelegramUser {
  id: number;
  first_name: string;
  username?: string;
}

export interface FakeTelegramUpdate {
  update_id: number;
  callback_query?: {
    id: string;
    from: FakeTelegramUser & { is_bot: false; language_code: string };
    message: Record<string, unknown>;
    chat_instance: string;
    data: string;
  };
}

export interface FakeCallbackAnswer {
  callback_query_id: string;
  text: string | null;
  show_alert: boolean;
}

export interface TelegramFake {
  url: string;
  /** Every message the bot sent and still exists, as it is now (edits change it in place). */
  messages: FakeTelegramMessage[];
  requests: FakeTelegramRequest[];
  /** answerCallbackQuery calls that Telegram accepted. */
  answers: FakeCallbackAnswer[];
  /** Updates queued and not yet confirmed by a getUpdates offset. */
  updates: FakeTelegramUpdate[];
  /** The messages in one chat, oldest first. */
  inChat(chatId: string | number): FakeTelegramMessage[];
  /** Someone deleted the message in the chat: editing it is "message to edit not found". */
  deleteMessage(chatId: string | number, messageId: number): boolean;
  /** The message may no longer be edited: "message can't be edited". */
  freezeMessage(chatId: string | number, messageId: number): void;
  /**
   * A person presses the button carrying `data` under a message. Queued for getUpdates, or, with a webhook set
   * (`useWebhook`), posted there with X-Telegram-Bot-Api-Secret-Token; then the receiver's answer is returned.
   * Throws when the message has no such button, unless `unchecked` (a forged or foreign press).
   */
  press(
    chatId: string | number,
    messageId: number,
    data: string,
    from: FakeTelegramUser,
    opts?: { unchecked?: boolean },
  ): Promise<{ update: FakeTelegramUpdate; webhook: { status: number; body: string } | null }>;
  /** What setWebhook would set: presses are posted there and getUpdates answers 409. Null: long polling. */
  useWebhook(webhook: { url: string; secretToken?: string } | null): void;
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
  /** Flood control: at most one message (sent or edited) per second per chat, by this clock. */
  limitPerChatPerSecond?: boolean;
  /** Flood control: at most 20 messages (sent or edited) per minute in a group (negative id or @name), by this clock. */
  limitPerGroupPerMinute?: boolean;
  now?: () => number;
}): Promise<TelegramFake> {
  const now = opts.now ?? Date.now;
  const known = opts.chats ? new Set(opts.chats.map(String)) : null;
  const blocked = new Set((opts.blockedChats ?? []).map(String));
  const lastAt = new Map<string, number>();
  const groupTimes = new Map<string, number[]>();
  const frozen = new Set<string>();
  const queries = new Set<string>();
  let down = false;
  let nextMessageId = 4101;
  let nextUpdateId = 730_000_001;
  let nextQueryId = 1;
  let webhook: { url: string; secretToken?: string } | null = null;
  /** The one long poll waiting for updates; a newer one ends it with 409, as Telegram does. */
  let waiting: { answerNow: () => void; conflict: () => void } | null = null;

  const key = (chatId: string | number, messageId: number) => `${String(chatId)}/${messageId}`;
  const find = (chatId: string | number, messageId: number) =>
    fake.messages.find((m) => String(m.chat_id) === String(chatId) && m.message_id === messageId);

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
      const method = m[2]!;
      if (req.method !== 'POST') return error(400, 'Bad Request: this fake takes POST with a JSON body');
      if (method === 'getUpdates') return getUpdates(res, entry, body ?? {});
      if (method === 'answerCallbackQuery') {
        const id = body?.callback_query_id;
        if (typeof id !== 'string' || id === '') return error(400, 'Bad Request: parameter "callback_query_id" is required');
        const text = typeof body?.text === 'string' ? body.text : null;
        if (text !== null && text.length > 200) return error(400, 'Bad Request: MESSAGE_TOO_LONG');
        // A press is answered once, within seconds; after that, or for an id never issued, Telegram says this.
        if (!queries.delete(id)) return error(400, 'Bad Request: query is too old and response timeout expired or query ID is invalid');
        fake.answers.push({ callback_query_id: id, text, show_alert: body?.show_alert === true });
        return answer(200, { ok: true, result: true });
      }
      if (method !== 'sendMessage' && method !== 'editMessageText') return error(404, 'Not Found: method not found');
      if (body === null) return error(400, 'Bad Request: message text is empty');
      const chatId = body.chat_id;
      if (typeof chatId !== 'string' && typeof chatId !== 'number') return error(400, 'Bad Request: chat_id is empty');
      const text = body.text;
      if (typeof text !== 'string' || text === '') return error(400, 'Bad Request: message text is empty');
      const chat = String(chatId);
      if (known && !known.has(chat)) return error(400, 'Bad Request: chat not found');
      if (blocked.has(chat)) return error(403, 'Forbidden: bot was blocked by the user');
      if (text.length > 4096) return error(400, method === 'sendMessage' ? 'Bad Request: message is too long' : 'Bad Request: MESSAGE_TOO_LONG');
      const parseMode = typeof body.parse_mode === 'string' ? body.parse_mode : null;
      if (parseMode !== null && parseMode !== 'HTML') return error(400, `Bad Request: unsupported parse_mode ${parseMode} in this fake`);
      if (parseMode === 'HTML') {
        const problem = checkTelegramHtml(text);
        if (problem !== null) return error(400, `Bad Request: can't parse entities: ${problem}`);
      }
      let markup: FakeInlineKeyboard | null = null;
      if (body.reply_markup !== undefined) {
        const checked = checkInlineKeyboard(body.reply_markup);
        if (typeof checked === 'string') return error(400, `Bad Request: ${checked}`);
        // An empty keyboard is no keyboard.
        markup = checked.inline_keyboard.length > 0 ? checked : null;
      }
      let target: FakeTelegramMessage | undefined;
      if (method === 'editMessageText') {
        const messageId = body.message_id;
        if (typeof messageId !== 'number' || !Number.isInteger(messageId)) return error(400, 'Bad Request: message identifier is not specified');
        target = find(chat, messageId);
        if (!target) return error(400, 'Bad Request: message to edit not found');
        if (frozen.has(key(chat, messageId))) return error(400, "Bad Request: message can't be edited");
        if (target.text === text && sameMarkup(target.reply_markup, markup)) {
          return error(400, 'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message');
        }
      }
      const at = now();
      if (opts.limitPerChatPerSecond) {
        const previous = lastAt.get(chat);
        if (previous !== undefined && at - previous < 1000) {
          const retryAfter = Math.max(1, Math.ceil((previous + 1000 - at) / 1000));
          return error(429, `Too Many Requests: retry after ${retryAfter}`, { retry_after: retryAfter });
        }
      }
      const isGroup = chat.startsWith('-') || chat.startsWith('@');
      const recent = (groupTimes.get(chat) ?? []).filter((t) => t > at - 60_000);
      if (opts.limitPerGroupPerMinute && isGroup && recent.length >= 20) {
        const retryAfter = Math.max(1, Math.ceil((recent[0]! + 60_000 - at) / 1000));
        return error(429, `Too Many Requests: retry after ${retryAfter}`, { retry_after: retryAfter });
      }
      lastAt.set(chat, at);
      groupTimes.set(chat, [...recent, at]);
      let message: FakeTelegramMessage;
      if (target) {
        target.text = text;
        target.parse_mode = parseMode;
        target.reply_markup = markup;
        target.edited_at = at;
        target.versions.push({ text, reply_markup: markup, at });
        message = target;
      } else {
        message = {
          chat_id: chatId, text, parse_mode: parseMode, message_id: nextMessageId++, reply_markup: markup, at, edited_at: null,
          versions: [{ text, reply_markup: markup, at }], body,
        };
        fake.messages.push(message);
      }
      return answer(200, { ok: true, result: messageObject(message) });
    });
  });

  /** The Message object Telegram returns and puts under a callback query. */
  function messageObject(message: FakeTelegramMessage): Record<string, unknown> {
    return {
      message_id: message.message_id,
      date: Math.floor(message.at / 1000),
      ...(message.edited_at !== null ? { edit_date: Math.floor(message.edited_at / 1000) } : {}),
      chat: chatObject(message.chat_id),
      text: message.text,
      ...(message.reply_markup ? { reply_markup: message.reply_markup } : {}),
    };
  }

  function getUpdates(res: ServerResponse, entry: FakeTelegramRequest, body: Record<string, unknown>): void {
    const reply = (status: number, json: unknown) => {
      if (res.writableEnded || res.destroyed) return;
      entry.status = status;
      send(res, status, json);
    };
    if (webhook) {
      return reply(409, { ok: false, error_code: 409, description: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first" });
    }
    // An offset confirms every update before it: they are gone for good.
    if (typeof body.offset === 'number' && body.offset > 0) fake.updates = fake.updates.filter((u) => u.update_id >= (body.offset as number));
    const allowed = Array.isArray(body.allowed_updates) && body.allowed_updates.length > 0 ? body.allowed_updates.map(String) : null;
    const limit = typeof body.limit === 'number' ? Math.min(100, Math.max(1, body.limit)) : 100;
    const timeout = typeof body.timeout === 'number' ? Math.max(0, body.timeout) : 0;
    const ready = () =>
      fake.updates.filter((u) => !allowed || Object.keys(u).some((k) => k !== 'update_id' && allowed.includes(k))).slice(0, limit);
    waiting?.conflict();
    waiting = null;
    if (ready().length > 0 || timeout === 0) return reply(200, { ok: true, result: ready() });
    let timer: NodeJS.Timeout | undefined;
    const me = {
      answerNow: () => finish(() => reply(200, { ok: true, result: ready() })),
      conflict: () => finish(() => reply(409, { ok: false, error_code: 409, description: 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running' })),
    };
    function finish(then: () => void) {
      clearTimeout(timer);
      if (waiting === me) waiting = null;
      then();
    }
    waiting = me;
    timer = setTimeout(me.answerNow, timeout * 1000);
    // The poller gave up (aborted, timed out): nobody to answer.
    res.on('close', () => finish(() => undefined));
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const fake: TelegramFake = {
    url: `http://127.0.0.1:${port}`,
    messages: [],
    requests: [],
    answers: [],
    updates: [],
    inChat: (chatId) => fake.messages.filter((m) => String(m.chat_id) === String(chatId)),
    deleteMessage: (chatId, messageId) => {
      const index = fake.messages.findIndex((m) => String(m.chat_id) === String(chatId) && m.message_id === messageId);
      if (index >= 0) fake.messages.splice(index, 1);
      return index >= 0;
    },
    freezeMessage: (chatId, messageId) => {
      frozen.add(key(chatId, messageId));
    },
    press: async (chatId, messageId, data, from, pressOpts = {}) => {
      const message = find(chatId, messageId);
      if (!pressOpts.unchecked) {
        if (!message) throw new Error(`telegram fake: no message ${messageId} in chat ${chatId} to press a button of`);
        const buttons = (message.reply_markup?.inline_keyboard ?? []).flat();
        if (!buttons.some((b) => b.callback_data === data)) throw new Error(`telegram fake: message ${messageId} has no button with callback_data ${data}`);
      }
      const id = `${7_349_120_000 + nextQueryId++}${String(from.id).slice(-4)}`;
      queries.add(id);
      const update: FakeTelegramUpdate = {
        update_id: nextUpdateId++,
        callback_query: {
          id,
          from: { ...from, is_bot: false, language_code: 'ru' },
          message: message
            ? messageObject(message)
            : { message_id: messageId, date: Math.floor(now() / 1000), chat: chatObject(chatId), text: '' },
          chat_instance: '-5473101296542391736',
          data,
        },
      };
      if (webhook) {
        const posted = await fetch(webhook.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(webhook.secretToken !== undefined ? { 'x-telegram-bot-api-secret-token': webhook.secretToken } : {}) },
          body: JSON.stringify(update),
        });
        return { update, webhook: { status: posted.status, body: await posted.text() } };
      }
      fake.updates.push(update);
      waiting?.answerNow();
      return { update, webhook: null };
    },
    useWebhook: (value) => {
      webhook = value;
    },
    setDown: (value) => {
      down = value;
    },
    close: () => new Promise<void>((resolve) => {
      waiting?.answerNow();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  return fake;
}

/** The Chat object of a chat id: a @name is a public supergroup here, a negative id a group, else a private chat. */
function chatObject(chatId: string | number): Record<string, unknown> {
  const chat = String(chatId);
  if (chat.startsWith('@')) return { id: -1001234567890, type: 'supergroup', title: chat.slice(1), username: chat.slice(1) };
  return chat.startsWith('-') ? { id: Number(chat), type: 'supergroup', title: 'earshot alerts' } : { id: Number(chat), type: 'private', first_name: 'Care' };
}

/** The keyboard as Telegram checks it, or what is wrong with it. */
function checkInlineKeyboard(value: unknown): FakeInlineKeyboard | string {
  const rows = (value as { inline_keyboard?: unknown } | null)?.inline_keyboard;
  if (!Array.isArray(rows)) return 'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array';
  for (const row of rows) {
    if (!Array.isArray(row)) return 'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays';
    for (const button of row as unknown[]) {
      const b = button as FakeInlineButton | null;
      if (typeof b?.text !== 'string' || b.text === '') return 'text buttons are unallowed in the inline keyboard';
      const kinds = [b.callback_data, b.url].filter((v) => v !== undefined);
      if (kinds.length !== 1) return "can't parse inline keyboard button: exactly one of callback_data and url must be set";
      if (b.callback_data !== undefined && (typeof b.callback_data !== 'string' || b.callback_data === '' || Buffer.byteLength(b.callback_data) > 64)) {
        return 'BUTTON_DATA_INVALID';
      }
      if (b.url !== undefined) {
        let host = '';
        try {
          const url = new URL(String(b.url));
          host = /^https?:$/.test(url.protocol) ? url.hostname : '';
        } catch {
          host = '';
        }
        if (!host.includes('.')) return `inline keyboard button URL '${String(b.url)}' is invalid: Wrong HTTP URL`;
      }
    }
  }
  return { inline_keyboard: rows as FakeInlineButton[][] };
}

function sameMarkup(a: FakeInlineKeyboard | null, b: FakeInlineKeyboard | null): boolean {
  return JSON.stringify(a?.inline_keyboard ?? []) === JSON.stringify(b?.inline_keyboard ?? []);
}

function send(res: ServerResponse, status: number, json: unknown): void {
  const text = JSON.stringify(json);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
