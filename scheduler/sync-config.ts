import type { EarshotConfig } from '../config/schema.ts';
import { upsertBrand, type BrandRow } from '../store/brands.ts';
import { inTransaction, type Db } from '../store/connect.ts';
import { disableTargetsExcept, upsertTarget } from '../store/targets.ts';
import type { WebhookDestination } from '../tickets/connectors/webhook.ts';
import type { TicketPolicy } from '../tickets/open.ts';
import type { CrawlTarget } from './run-crawl.ts';

export interface ScheduledTarget extends CrawlTarget {
  schedule: string;
}

/** Makes the store match the config: brands and targets upserted, targets gone from config disabled. */
export async function syncConfig(db: Db, config: EarshotConfig, now: Date): Promise<ScheduledTarget[]> {
  return inTransaction(db, async (trx) => {
    const brands = new Map<string, BrandRow>();
    for (const brand of config.brands) brands.set(brand.name, await upsertBrand(trx, brand, now));
    const targets: ScheduledTarget[] = [];
    for (const target of config.targets) {
      const brand = brands.get(target.brand)!;
      await upsertTarget(trx, { id: target.id, source: target.source, brandId: brand.id, params: target.params, schedule: target.schedule, enabled: target.enabled }, now);
      if (target.enabled) {
        targets.push({ id: target.id, source: target.source, params: target.params, schedule: target.schedule, brand });
      }
    }
    await disableTargetsExcept(trx, config.targets.map((t) => t.id), now);
    return targets;
  });
}

export function ticketPolicyOf(config: EarshotConfig): TicketPolicy {
  return {
    defaultTeam: config.routing.defaultTeam,
    helpdesks: config.helpdesks.map(({ id }) => ({ id })),
    channels: config.channels.map(({ id, events }) => ({ id, events })),
  };
}

export function destinationsOf(config: EarshotConfig) {
  return (kind: 'helpdesk' | 'channel', id: string): WebhookDestination | undefined => {
    const found = kind === 'helpdesk' ? config.helpdesks.find((h) => h.id === id) : config.channels.find((c) => c.id === id);
    return found ? { url: found.url, secret: found.secret } : undefined;
  };
}
