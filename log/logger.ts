import { pino, type DestinationStream, type Logger } from 'pino';

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
    { level: opts.level ?? 'info', redact: { paths: REDACT, censor: '***' } },
    opts.stream ?? pino.destination({ fd: opts.destination ?? 2, sync: true }),
  );
}

export const silentLogger: Logger = pino({ level: 'silent' });
