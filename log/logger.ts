import { pino, type DestinationStream, type Logger } from 'pino';
import { redactSecrets } from './redact.ts';

export type { Logger };

// Secrets never reach logs: anything shaped like one is censored wherever it appears in a log object.
const REDACT = [
  'secret',
  '*.secret',
  '*.*.secret',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'headers["webhook-signature"]',
  'apiKey',
  '*.apiKey',
  'token',
  '*.token',
];

/**
 * Logs go to stderr as JSON lines, so a command's stdout stays machine-readable; or to `stream` (the stderr
 * of a CLI whose command the running product executes).
 */
export function createLogger(opts: { level?: string; destination?: number; stream?: DestinationStream } = {}): Logger {
  return pino(
    { level: opts.level ?? 'info', redact: { paths: REDACT, censor: '***' }, ...secretSafeOptions },
    opts.stream ?? pino.destination({ fd: opts.destination ?? 2, sync: true }),
  );
}

/**
 * What every logger of ours adds to pino's options so no credential reaches a line in any form: message strings
 * and errors (message and stack) pass through redactSecrets; objects are censored by `redact` paths.
 */
export const secretSafeOptions = {
  serializers: {
    err: (err: Error) => {
      const out: unknown = pino.stdSerializers.err(err);
      if (typeof out !== 'object' || out === null) return out;
      const { message, stack } = out as { message?: unknown; stack?: unknown };
      return {
        ...out,
        ...(typeof message === 'string' ? { message: redactSecrets(message) } : {}),
        ...(typeof stack === 'string' ? { stack: redactSecrets(stack) } : {}),
      };
    },
  },
  hooks: {
    logMethod(this: Logger, args: unknown[], method: (...args: unknown[]) => void) {
      const [first, ...rest] = args;
      // With no message, pino takes the error's own: given here, redacted, instead.
      const err = first instanceof Error ? first : (first as { err?: unknown } | null)?.err;
      if (rest.length === 0 && err instanceof Error && (first as { msg?: unknown }).msg === undefined) rest.push(err.message);
      return method.apply(this, [first, ...rest].map((arg) => (typeof arg === 'string' ? redactSecrets(arg) : arg)));
    },
  },
};

export const silentLogger: Logger = pino({ level: 'silent' });
