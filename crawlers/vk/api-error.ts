import {
  BlockedError,
  MissingCredentialsError,
  RateLimitedError,
  SourceChangedError,
  SourceUnavailableError,
  TargetUnusableError,
  type CrawlerError,
} from '../errors.ts';
import { apiErrorSchema } from './schema.ts';

/** VK's "too many requests per second" (error 6): the one error worth asking again at once. */
export const TOO_MANY_REQUESTS = 6;

const SECOND_MS = 1_000;
const HOUR_MS = 60 * 60 * 1_000;

// Codes from VKCOM/vk-api-schema errors.json (API 5.199).
const TOKEN_REJECTED = new Set([5]);
const WRONG_TOKEN_KIND = new Set([27, 28]);
const SLOW_DOWN_LONG = new Set([9, 29, 601]);
const HUMAN_CHECK = new Set([14, 17]);
const TARGET_UNUSABLE = new Set([15, 18, 19, 30, 100, 113, 125, 203, 210, 212]);
const API_CHANGED = new Set([3, 23, 34, 35]);

export interface VkApiError {
  code: number;
  message: string;
}

/** The error a VK answer carries (HTTP 200 with `{ error }`), or null for a normal answer. */
export function readApiError(json: unknown): VkApiError | null {
  const parsed = apiErrorSchema.safeParse(json);
  if (!parsed.success) return null;
  return { code: parsed.data.error.error_code, message: parsed.data.error.error_msg ?? '' };
}

/**
 * The crawler error a VK API error means: the class is the retry policy. `request_params` (which echoes an
 * `access_token` sent as a query parameter) is never read, and `secret`, when given, is masked in VK's message.
 */
export function toCrawlerError(error: VkApiError, method: string, secret?: string): CrawlerError {
  const said = secret ? error.message.split(secret).join('***') : error.message;
  const what = `VK ${method}: error ${error.code}${said ? ` (${said})` : ''}`;
  const { code } = error;
  if (TOKEN_REJECTED.has(code)) return new MissingCredentialsError(`${what}: ${tokenProblem(error.message)}`);
  if (WRONG_TOKEN_KIND.has(code)) {
    return new MissingCredentialsError(`${what}: this needs a VK user access token, not a community or service key; set credentials.vk.accessToken`);
  }
  if (code === TOO_MANY_REQUESTS) return new RateLimitedError(what, SECOND_MS);
  if (SLOW_DOWN_LONG.has(code)) return new RateLimitedError(what, HOUR_MS);
  if (HUMAN_CHECK.has(code)) {
    return new BlockedError(`${what}: VK wants a person to pass a check; log in to vk.com with the token's account`);
  }
  if (TARGET_UNUSABLE.has(code)) return new TargetUnusableError(`${what}: check the target's query and communities`);
  if (API_CHANGED.has(code)) return new SourceChangedError(`${what}: the VK API no longer serves this call as earshot makes it`);
  return new SourceUnavailableError(what);
}

// Error 5 covers a token that never arrived as well as a bad one; VK's message tells which, and a user who is told
// to replace a good token would replace it for nothing.
function tokenProblem(message: string): string {
  if (/no access_token passed/i.test(message)) {
    return 'VK received no access token: credentials.vk.accessToken is empty (is the environment variable it names set for earshot?)';
  }
  if (/expired/i.test(message)) return 'the access token has expired; get a new user token and set credentials.vk.accessToken';
  return 'VK rejected the access token (invalid or revoked); get a new user token and set credentials.vk.accessToken';
}

/** Throws the crawler error of a VK error answer; returns for a normal one. */
export function throwIfApiError(json: unknown, method: string, secret?: string): void {
  const error = readApiError(json);
  if (error) throw toCrawlerError(error, method, secret);
}
