/**
 * A local Slack incoming webhook, built from Slack's documented incoming-webhook behaviour (its published error
 * strings and Block Kit limits): no recording of the real service exists. One webhook path
 * (/services/T000/B000/XXXX) answers 200 "ok"; any other path 404 "no_service"; a body that is not JSON 400
 * "invalid_payload"; neither text nor blocks 400 "no_text"; blocks Slack would refuse 400 "invalid_blocks"
 * (more than 50, a block type other than header/section/context/divider, header text over 150, section text
 * over 3000, more than 10 fields or a field over 2000, more than 10 context elements). `setDown` answers 503;
 * `rateLimitNext` answers 429 with Retry-After; `answerNext` one
 * other documented error. Error bodies are Slack's short plain-text strings.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlackFakeMessage {
  text: unknown;
  blocks: unknown;
}

export const SLACK_FAKE_PATH = '/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX';

const BLOCK_TYPES = new Set(['header', 'section', 'context', 'divider']);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const isText = (v: unknown, types: string[]): v is { type: string; text: string } =>
  isObj(v) && types.includes(v.type as string) && typeof v.text === 'string' && v.text.length > 0;

/** Why Slack would refuse these blocks, or null. */
export function slackBlocksProblem(blocks: unknown): string | null {
  if (!Array.isArray(blocks)) return 'blocks is not an array';
  if (blocks.length > 50) return 'more than 50 blocks';
  for (const [i, block] of blocks.entries()) {
    if (!isObj(block) || typeof block.type !== 'string' || !BLOCK_TYPES.has(block.type)) return `block ${i}: unknown type`;
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
      default:
        break;
    }
  }
  return null;
}

export async function startSlackFake() {
  const messages: SlackFakeMessage[] = [];
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
      if (req.url !== SLACK_FAKE_PATH) return answer(404, 'no_service');
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
      messages.push({ text: payload.text, blocks: payload.blocks });
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
