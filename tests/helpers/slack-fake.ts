/**
 * A local Slack, built from Slack's documented behaviour (its published error strings, Block Kit limits and
 * request signing): no recording of the real service exists.
 *
 * The incoming webhook: one path (/services/T000/B000/XXXX) answers 200 "ok"; any other path 404 "no_service"; a
 * body that is not JSON 400 "invalid_payload"; neither text nor blocks 400 "no_text"; blocks Slack would refuse
 * 400 "invalid_blocks" (see `slackBlocksProblem`). `setDown` answers 503; `rateLimitNext` answers 429 with
 * Retry-After; `answerNext` one other documented error. Error bodies are Slack's short plain-text strings.
 *
 * A press's response_url (/actions/T000/…): takes `{replace_original, text, blocks}` like the webhook and records
 * it in `replacements`.
 *
 * For the other direction, `signSlackRequest` and `blockActionsPayload` build what Slack posts to an app's
 * Interactivity Request URL when a button is pressed.
 */
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlackFakeMessage {
  text: unknown;
  blocks: unknown;
}

export const SLACK_FAKE_PATH = '/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX';
export const SLACK_FAKE_RESPONSE_PATH = '/actions/T000/1111111111111/YYYYYYYYYYYYYYYYYYYYYYYY';

const BLOCK_TYPES = new Set(['header', 'section', 'context', 'divider', 'actions']);
/** msg_blocks_too_long: Slack documents no number; community reports put it around 13,000 characters. */
export const SLACK_FAKE_TOTAL_CHARS = 13_000;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const isText = (v: unknown, types: string[]): v is { type: string; text: string } =>
  isObj(v) && types.includes(v.type as string) && typeof v.text === 'string' && v.text.length > 0;

/** Why Slack would refuse this button, or null. */
function buttonProblem(button: unknown, actionIds: Set<string>): string | null {
  if (!isObj(button) || button.type !== 'button') return 'not a button';
  if (!isText(button.text, ['plain_text']) || button.text.text.length > 75) return 'button text';
  if (typeof button.action_id !== 'string' || button.action_id.length === 0 || button.action_id.length > 255) return 'action_id';
  if (actionIds.has(button.action_id)) return 'action_id not unique';
  actionIds.add(button.action_id);
  if (button.value !== undefined && (typeof button.value !== 'string' || button.value.length > 2000)) return 'button value';
  if (button.url !== undefined && (typeof button.url !== 'string' || button.url.length > 3000 || !/^https?:\/\//.test(button.url))) {
    return 'button url';
  }
  if (button.style !== undefined && button.style !== 'primary' && button.style !== 'danger') return 'button style';
  return null;
}

/** Why Slack would refuse these blocks, or null. */
export function slackBlocksProblem(blocks: unknown): string | null {
  if (!Array.isArray(blocks)) return 'blocks is not an array';
  if (blocks.length > 50) return 'more than 50 blocks';
  if (JSON.stringify(blocks).length > SLACK_FAKE_TOTAL_CHARS) return `blocks over ${SLACK_FAKE_TOTAL_CHARS} characters in all`;
  const blockIds = new Set<string>();
  const actionIds = new Set<string>();
  for (const [i, block] of blocks.entries()) {
    if (!isObj(block) || typeof block.type !== 'string' || !BLOCK_TYPES.has(block.type)) return `block ${i}: unknown type`;
    if (block.block_id !== undefined) {
      if (typeof block.block_id !== 'string' || block.block_id.length > 255 || blockIds.has(block.block_id)) return `block ${i}: block_id`;
      blockIds.add(block.block_id);
    }
    switch (block.type) {
      case 'header':
        if (!isText(block.text, ['plain_text']) || block.text.text.length > 150) return `block ${i}: header text`;
        break;
      case 'section': {
        if (block.text === undefined && block.fields === undefined) return `block ${i}: section without text or fields`;
        if (block.text !== undefined && (!isText(block.text, ['mrkdwn', 'plain_text']) || block.text.text.length > 3000)) {
          return `block ${i}: section text`;
        }
        if (block.fields !== undefined) {
          const fields = block.fields;
          if (!Array.isArray(fields) || fields.length === 0 || fields.length > 10) return `block ${i}: fields count`;
          if (!fields.every((f) => isText(f, ['mrkdwn', 'plain_text']) && f.text.length <= 2000)) return `block ${i}: field`;
        }
        break;
      }
      case 'context': {
        const elements = block.elements;
        if (!Array.isArray(elements) || elements.length === 0 || elements.length > 10) return `block ${i}: context elements`;
        if (!elements.every((e) => isText(e, ['mrkdwn', 'plain_text']))) return `block ${i}: context element`;
        break;
      }
      case 'actions': {
        const elements = block.elements;
        if (!Array.isArray(elements) || elements.length === 0 || elements.length > 25) return `block ${i}: actions elements`;
        for (const element of elements) {
          const problem = buttonProblem(element, actionIds);
          if (problem) return `block ${i}: ${problem}`;
        }
        break;
      }
      default:
        break;
    }
  }
  return null;
}

/**
 * A request as Slack signs it for the app's Request URLs: X-Slack-Signature is `v0=` and the hex HMAC-SHA256 of
 * `v0:{timestamp}:{body}` under the signing secret; the timestamp is Unix seconds.
 */
export function signSlackRequest(secret: string, body: string, timestamp: Date | number): {
  headers: Record<string, string>;
  rawBody: string;
} {
  const seconds = String(typeof timestamp === 'number' ? timestamp : Math.floor(timestamp.getTime() / 1000));
  const signature = createHmac('sha256', secret).update(`v0:${seconds}:${body}`, 'utf8').digest('hex');
  return {
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': seconds,
      'x-slack-signature': `v0=${signature}`,
    },
    rawBody: body,
  };
}

/** An interaction payload as Slack posts it: the form field `payload`, its JSON. */
export function slackInteractionBody(payload: unknown): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** A `block_actions` payload as Slack's reference shows it, one action per pressed button value. */
export function blockActionsPayload(opts: {
  values: (string | undefined)[];
  user?: { id: string; username?: string; name?: string };
  responseUrl?: string | null;
}): Record<string, unknown> {
  const user = opts.user ?? { id: 'U0ABCDEF1', username: 'jamie', name: 'jamie' };
  return {
    type: 'block_actions',
    user: { ...user, team_id: 'T000' },
    api_app_id: 'A0EARSHOT',
    token: 'legacy-verification-token',
    container: { type: 'message', message_ts: '1764000000.000100', channel_id: 'C0ALERTS', is_ephemeral: false },
    trigger_id: '1234567890.987654321.abcdef',
    team: { id: 'T000', domain: 'acme' },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: 'C0ALERTS', name: 'alerts' },
    message: { type: 'message', subtype: 'bot_message', text: 'earshot', ts: '1764000000.000100', bot_id: 'B000' },
    state: { values: {} },
    ...(opts.responseUrl === null ? {} : { response_url: opts.responseUrl ?? `https://hooks.slack.com${SLACK_FAKE_RESPONSE_PATH}` }),
    actions: opts.values.map((value, i) => ({
      action_id: value === undefined ? 'earshot_open' : i === 0 ? 'earshot_ack' : `earshot_${i}`,
      block_id: 'earshot_actions',
      text: { type: 'plain_text', text: 'Acknowledge', emoji: false },
      ...(value === undefined ? {} : { value }),
      type: 'button',
      action_ts: '1764000001.000200',
    })),
  };
}

export async function startSlackFake() {
  const messages: SlackFakeMessage[] = [];
  const replacements: (SlackFakeMessage & { replaceOriginal: unknown })[] = [];
  const problems: string[] = [];
  let down = false;
  let limited = { remaining: 0, retryAfterSeconds: 0 };
  let forced: { status: number; body: string } | null = null;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answer = (status: number, body: string, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
        res.end(body);
      };
      const isResponseUrl = req.url === SLACK_FAKE_RESPONSE_PATH;
      if (req.url !== SLACK_FAKE_PATH && !isResponseUrl) return answer(404, 'no_service');
      if (req.method !== 'POST') return answer(405, 'invalid_method');
      if (down) return answer(503, 'service_unavailable');
      if (forced) {
        const { status, body } = forced;
        forced = null;
        return answer(status, body);
      }
      if (limited.remaining > 0) {
        limited.remaining--;
        return answer(429, 'rate_limited', { 'retry-after': String(limited.retryAfterSeconds) });
      }
      let payload: unknown;
      try {
        payload = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return answer(400, 'invalid_payload');
      }
      if (!isObj(payload)) return answer(400, 'invalid_payload');
      const hasText = typeof payload.text === 'string' && payload.text.length > 0;
      if (!hasText && payload.blocks === undefined) return answer(400, 'no_text');
      if (payload.blocks !== undefined) {
        const problem = slackBlocksProblem(payload.blocks);
        if (problem) {
          problems.push(problem);
          return answer(400, 'invalid_blocks');
        }
      }
      if (isResponseUrl) replacements.push({ text: payload.text, blocks: payload.blocks, replaceOriginal: payload.replace_original });
      else messages.push({ text: payload.text, blocks: payload.blocks });
      return answer(200, 'ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    /** The webhook URL: the secret. */
    url: `${base}${SLACK_FAKE_PATH}`,
    base,
    messages,
    /** A press's response_url on this fake: what is posted there lands in `replacements`. */
    responseUrl: `${base}${SLACK_FAKE_RESPONSE_PATH}`,
    replacements,
    /** Why the last refused bodies were refused (invalid_blocks). */
    problems,
    setDown(isDown: boolean) {
      down = isDown;
    },
    rateLimitNext(n: number, retryAfterSeconds: number) {
      limited = { remaining: n, retryAfterSeconds };
    },
    /** The next request gets this documented error (403 invalid_token, 410 channel_is_archived…). */
    answerNext(status: number, body: string) {
      forced = { status, body };
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
