import type { Migration } from 'kysely';
import { init } from './0001-init.ts';
import { targetHealth } from './0002-target-health.ts';
import { sentiment } from './0003-sentiment.ts';
import { clusters } from './0004-clusters.ts';
import { runtime } from './0005-runtime.ts';
import { ingest } from './0006-ingest.ts';
import { parkedDeliveries } from './0007-parked-deliveries.ts';
import { ticketLifecycle } from './0008-ticket-lifecycle.ts';
import { destinationHealth } from './0009-destination-health.ts';
import { incidents } from './0010-incidents.ts';
import { users } from './0011-users.ts';
import { inbox } from './0012-inbox.ts';
import { modelMetrics } from './0013-model-metrics.ts';
import { targetLatest } from './0014-target-latest.ts';

/** Every migration, in order; names sort lexically, so keep the numeric prefix. */
export const migrations: Record<string, Migration> = {
  '0001-init': init,
  '0002-target-health': targetHealth,
  '0003-sentiment': sentiment,
  '0004-clusters': clusters,
  '0005-runtime': runtime,
  '0006-ingest': ingest,
  '0007-parked-deliveries': parkedDeliveries,
  '0008-ticket-lifecycle': ticketLifecycle,
  '0009-destination-health': destinationHealth,
  '0010-incidents': incidents,
  '0011-users': users,
  '0012-inbox': inbox,
  '0013-model-metrics': modelMetrics,
  '0014-target-latest': targetLatest,
};
