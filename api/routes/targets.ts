import { z } from 'zod';
import { listTargetHealth, type TargetHealth } from '../../store/target-health.ts';
import { describeProblems } from '../errors.ts';
import { formatTimestamp, nullableTimestampSchema, timestampSchema } from '../../documents/fields.ts';
import { apiSchemaRegistry } from '../schemas.ts';
import type { ApiDeps, ZodApp } from '../types.ts';

const targetSchema = z
  .object({
    id: z.string(),
    source: z.string(),
    brand: z.string().describe('The first of its brands: the one that owns its reviews or page'),
    brands: z.array(z.string()).describe('Every brand the target listens for'),
    state: z.enum(['ok', 'degraded', 'blocked', 'needs_action', 'disabled']),
    enabled: z.boolean(),
    schedule: z.string(),
    last_run_at: nullableTimestampSchema,
    last_success_at: nullableTimestampSchema,
    last_error_at: nullableTimestampSchema,
    last_error: z.string().nullable(),
    consecutive_errors: z.number().int(),
    next_run_at: nullableTimestampSchema,
    mentions_24h: z.number().int().describe('Mentions of this target first seen in the last 24 hours'),
    last_mention_at: nullableTimestampSchema.describe('Date of the newest mention (published, or first seen when the source gives none)'),
    expected_quiet_days: z.number().describe('Days without a new mention after which the target counts as silent'),
    silent: z.boolean().describe('Enabled and nothing new for longer than expected_quiet_days: check the target'),
    team: z.string().nullable().describe("Team that owns this target's tickets; null: the default team"),
    skipped_runs: z
      .number()
      .int()
      .describe('Cron fires that found the target still queued or running: the workers did not keep up with its schedule'),
    last_skipped_at: nullableTimestampSchema,
    last_run: z
      .object({
        status: z.enum(['running', 'ok', 'failed', 'interrupted']),
        started_at: timestampSchema,
        finished_at: nullableTimestampSchema,
        fetched: z.number().int(),
        new: z.number().int(),
        updated: z.number().int(),
        duplicates: z.number().int(),
        tickets: z.number().int(),
        error: z.string().nullable(),
      })
      .nullable(),
  })
  .register(apiSchemaRegistry, { id: 'TargetHealth' });

export function registerTargetRoutes(app: ZodApp, deps: ApiDeps): void {
  app.get(
    '/targets',
    {
      // Counts of the last 24 hours: a few seconds late at most, as a health page is read.
      config: { snapshotCache: { clockSeconds: 5 } },
      schema: {
        operationId: 'listTargets',
        summary: 'Crawl health of every target',
        tags: ['targets'],
        response: { 200: z.object({ data: z.array(targetSchema) }), ...describeProblems(401, 403, 500) },
      },
    },
    async () => {
      const targets = await listTargetHealth(deps.db, { now: deps.now() });
      return { data: targets.map(formatTarget) };
    },
  );
}

function formatTarget(t: TargetHealth): z.output<typeof targetSchema> {
  return {
    id: t.id,
    source: t.source,
    brand: t.brand,
    brands: t.brands,
    state: t.state,
    enabled: t.enabled,
    schedule: t.schedule,
    last_run_at: formatTimestamp(t.lastRunAt),
    last_success_at: formatTimestamp(t.lastSuccessAt),
    last_error_at: formatTimestamp(t.lastErrorAt),
    last_error: t.lastError,
    consecutive_errors: t.consecutiveErrors,
    next_run_at: formatTimestamp(t.nextRunAt),
    mentions_24h: t.mentions24h,
    last_mention_at: formatTimestamp(t.lastMentionAt),
    expected_quiet_days: t.expectedQuietDays,
    silent: t.silent,
    team: t.team,
    skipped_runs: t.skippedRuns,
    last_skipped_at: formatTimestamp(t.lastSkippedAt),
    last_run: t.lastRun
      ? {
          status: t.lastRun.status,
          started_at: formatTimestamp(t.lastRun.startedAt),
          finished_at: formatTimestamp(t.lastRun.finishedAt),
          fetched: t.lastRun.fetched,
          new: t.lastRun.new,
          updated: t.lastRun.updated,
          duplicates: t.lastRun.duplicates,
          tickets: t.lastRun.tickets,
          error: t.lastRun.error,
        }
      : null,
  };
}
