import { z } from 'zod';
import { pingStore } from '../../store/connect.ts';
import { diskFullSince } from '../../store/disk-space.ts';
import { describeProblems, sendProblem } from '../errors.ts';
import type { ApiDeps, ZodApp } from '../types.ts';

const DB_TIMEOUT_MS = 2_000;

const healthSchema = z.object({
  status: z.literal('ok'),
  db: z.enum(['pglite', 'postgres']),
  version: z.string(),
  problems: z
    .array(z.string())
    .describe('What works only in part: the database out of disk space (reads work, writes fail until space is freed); empty when all is well'),
});

export function registerHealthRoutes(app: ZodApp, deps: ApiDeps): void {
  app.get(
    '/health',
    {
      schema: {
        operationId: 'getHealth',
        summary: 'Liveness and database check',
        description: 'Needs no API key. Answers 503 when the database does not answer `select 1`; 200 with `problems` when it answers but cannot write.',
        tags: ['system'],
        security: [],
        response: { 200: healthSchema, ...describeProblems(500, 503) },
      },
    },
    async (request, reply) => {
      try {
        await pingDatabase(deps);
      } catch (err) {
        request.log.warn({ err }, 'health check: database did not answer');
        return sendProblem(request, reply, 503, 'The database did not answer.');
      }
      const full = diskFullSince(deps.db);
      const problems = full === null ? [] : [`the database ran out of disk space at ${full.toISOString()}: writes fail until space is freed, then resume by themselves`];
      return { status: 'ok' as const, db: deps.storeKind, version: deps.version, problems };
    },
  );
}

async function pingDatabase(deps: ApiDeps): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${DB_TIMEOUT_MS} ms`)), DB_TIMEOUT_MS);
  });
  try {
    await Promise.race([pingStore(deps.db), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
