import type { EarshotConfig } from '../config/schema.ts';
import { findCrawler } from '../crawlers/registry.ts';
import { upsertBrand, type BrandRow } from '../store/brands.ts';
import { inTransaction, type Db } from '../store/connect.ts';
import { disableTargetsExcept, recordTargetFailure, upsertTarget } from '../store/targets.ts';
import type { WebhookDestination } from '../tickets/connectors/webhook.ts';
import type { TicketPolicy } from '../tickets/open.ts';
import type { CrawlTarget } from './run-crawl.ts';

export interface ScheduledTarget extends CrawlTarget {
  schedule: string;
}

export interface SyncedTargets {
  /** Enabled targets that can run: cron schedules these. */
  scheduled: ScheduledTarget[];
  /** Enabled in config but unable to run (their source's required credentials are missing), with the reason. */
  waiting: { id: string; reason: string }[];
}

/**
 * Makes the store match the config: brands and targets upserted, targets gone from config disabled. A target
 * whose source needs credentials the config lacks is stored disabled with the one line that says what to set.
 */
export async function syncConfig(db: Db, config: EarshotConfig, now: Date): Promise<SyncedTargets> {
  return inTransaction(db, async (trx) => {
    const brands = new Map<string, BrandRow>();
    for (const brand of config.brands) brands.set(brand.name, await upsertBrand(trx, brand, now));
    const synced: SyncedTargets = { scheduled: [], waiting: [] };
    for (const target of config.targets) {
      const brand = brands.get(target.brand)!;
      const team = target.team ?? null;
      await upsertTarget(trx, { id: target.id, source: target.source, brandId: brand.id, params: target.params, schedule: target.schedule, enabled: target.enabled, team, expectedQuietDays: target.expectedQuietDays }, now);
      if (!target.enabled) continue;
      const needs = findCrawler(target.source)?.credentials;
      if (needs?.required && config.credentials[target.source] === undefined) {
        const reason = `MissingCredentialsError: ${needs.hint}`;
        await recordTargetFailure(trx, target.id, { state: 'disabled', error: reason, countsAsError: false }, now);
        synced.waiting.push({ id: target.id, reason });
        continue;
      }
      synced.scheduled.push({ id: target.id, source: target.source, params: target.params, schedule: target.schedule, brand, team, exclude: target.exclude ?? null });
    }
    await disableTargetsExcept(trx, config.targets.map((t) => t.id), now);
    return synced;
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
