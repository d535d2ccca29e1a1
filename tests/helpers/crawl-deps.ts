import { createHttpClient } from '../../crawlers/http.ts';
import { crawlers } from '../../crawlers/registry.ts';
import { silentLogger } from '../../log/logger.ts';
import { createBrandModels } from '../../pipeline/brand-models.ts';
import type { CrawlDeps } from '../../scheduler/run-crawl.ts';
import type { Db } from '../../store/connect.ts';
import { basicTicketPolicy } from '../../pipeline/ticket-policy.ts';

/**
 * What runCrawl needs, as the composition root builds it (the real crawler registry, fresh caches and brand
 * models, no channels or helpdesks), with a test's own parts on top.
 */
export function testCrawlDeps(db: Db, over: Partial<CrawlDeps> = {}): CrawlDeps {
  return {
    db,
    crawlers,
    httpFor: () => createHttpClient({ perHostPerSecond: 0, retries: 0 }),
    now: () => new Date(),
    log: silentLogger,
    policy: basicTicketPolicy({ defaultTeam: 'support', helpdesks: [], channels: [] }),
    caches: new Map(),
    models: createBrandModels(),
    ...over,
  };
}
