import { channelRoutesOf } from '../config/channel-routes.ts';
import type { EarshotConfig, TargetConfig } from '../config/schema.ts';
import { findCrawler, type CrawlerRegistry } from '../crawlers/registry.ts';
import { findBrand, upsertBrand, type BrandRow } from '../store/brands.ts';
import { inTransaction, type Db } from '../store/connect.ts';
import { disableTargetsExcept, recordTargetFailure, targetStates, upsertTarget } from '../store/targets.ts';
import { connectorOf } from '../delivery/connectors/registry.ts';
import type { Destination } from '../delivery/outbox.ts';
import { compileRoutingRules } from '../pipeline/routing.ts';
import type { TicketPolicy } from '../pipeline/ticket-policy.ts';
import type { CrawlTarget } from './run-crawl.ts';

export interface ScheduledTarget extends CrawlTarget {
  schedule: string;
}

export interface SyncedTargets {
  /** Enabled targets that can run: cron schedules these. */
  scheduled: ScheduledTarget[];
  /** Enabled in config but unable to run (their source's required credentials are missing), with the reason. */
  waiting: { id: string; reason: string }[];
  /** Scheduled targets that were waiting for credentials until this sync: crawled at once, not at their next tick. */
  resumed: string[];
}

/**
 * Makes the store match the config: brands and targets upserted, targets gone from config disabled. A target
 * whose source needs credentials the config lacks is stored disabled with the one line that says what to set.
 */
export async function syncConfig(db: Db, config: EarshotConfig, crawlers: CrawlerRegistry, now: Date): Promise<SyncedTargets> {
  return inTransaction(db, async (trx) => {
    const brands = new Map<string, BrandRow>();
    for (const brand of config.brands) brands.set(brand.name, await upsertBrand(trx, brand, now));
    const before = await targetStates(trx);
    const synced: SyncedTargets = { scheduled: [], waiting: [], resumed: [] };
    for (const target of config.targets) {
      const targetBrands = target.brands.map((name) => brands.get(name)!);
      await upsertTarget(trx, { id: target.id, source: target.source, brandIds: targetBrands.map((b) => b.id), params: target.params, schedule: target.schedule, enabled: target.enabled, team: target.team ?? null, expectedQuietDays: target.expectedQuietDays }, now);
      if (!target.enabled) continue;
      const reason = missingCredentials(config, crawlers, target);
      if (reason !== null) {
        await recordTargetFailure(trx, target.id, { state: 'disabled', error: reason, countsAsError: false }, now);
        synced.waiting.push({ id: target.id, reason });
        continue;
      }
      synced.scheduled.push(scheduledTarget(target, targetBrands));
      if (before.get(target.id) === 'disabled') synced.resumed.push(target.id);
    }
    await disableTargetsExcept(trx, config.targets.map((t) => t.id), now);
    return synced;
  });
}

/**
 * The config's target as a crawl needs it, with its brands as the store has them: for a worker that did not
 * sync the config itself (the scheduler did). Undefined when the config has no such target, or its brands
 * are not stored yet.
 */
export async function loadScheduledTarget(db: Db, config: EarshotConfig, id: string): Promise<ScheduledTarget | undefined> {
  const target = config.targets.find((t) => t.id === id);
  if (!target) return undefined;
  const brands = await Promise.all(target.brands.map((name) => findBrand(db, name)));
  if (brands.some((b) => b === undefined)) return undefined;
  return scheduledTarget(target, brands as BrandRow[]);
}

function scheduledTarget(target: TargetConfig, brands: readonly BrandRow[]): ScheduledTarget {
  return { id: target.id, source: target.source, params: target.params, schedule: target.schedule, brands, team: target.team ?? null, exclude: target.exclude ?? null };
}

function missingCredentials(config: EarshotConfig, crawlers: CrawlerRegistry, target: TargetConfig): string | null {
  const needs = findCrawler(crawlers, target.source)?.credentials;
  return needs?.required && config.credentials[target.source] === undefined ? `MissingCredentialsError: ${needs.hint}` : null;
}

export function ticketPolicyOf(config: EarshotConfig): TicketPolicy {
  const hours = new Map(config.teams.map((team) => [team.id, team.hours ?? null]));
  return {
    defaultTeam: config.routing.defaultTeam,
    teams: config.teams.map((team) => team.id),
    helpdesks: config.helpdesks.map(({ id }) => ({ id })),
    channels: channelRoutesOf(config),
    routing: compileRoutingRules(config.routing.rules),
    sla: { policy: config.sla, hoursOf: (team) => hours.get(team) ?? null },
  };
}

/** Resolves an outbox row's destination: the config entry and its connector; undefined when it left the config. */
export function destinationsOf(config: EarshotConfig) {
  return (kind: 'helpdesk' | 'channel', id: string): Destination | undefined => {
    const found = kind === 'helpdesk' ? config.helpdesks.find((h) => h.id === id) : config.channels.find((c) => c.id === id);
    return found ? { connector: connectorOf(found.type), config: found } : undefined;
  };
}
