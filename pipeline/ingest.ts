import { createHash } from 'node:crypto';
import { setImmediate } from 'node:timers/promises';
import type { MentionAuthor, MentionDraft } from '../crawlers/types.ts';
import { storableValue } from '../lib/storable-text.ts';
import { assessActionability } from '../sentiment/actionable.ts';
import { analyzeSentiment, loadBaseModels, type SentimentModels } from '../sentiment/analyze.ts';
import { detectLanguage } from '../sentiment/language.ts';
import { findStoredStories, growClusters, insertClusters, type ClusterGrowth, type FoundStories, type NewCluster } from '../store/clusters.ts';
import { inTransaction, type Db } from '../store/connect.ts';
import {
  findKnownMentions, insertMentions, linkMentionBrands, mentionKey, reserveIds, upsertMentions, type KnownMention, type MentionInput,
} from '../store/mentions.ts';
import type { TicketPolicy } from './ticket-policy.ts';
import { assignStories, CANDIDATES_PER_STORY, joinTitle, storedCandidateIndex, storyOf, type Story } from './cluster.ts';
import { normalizeParagraphs, normalizeText } from './normalize.ts';
import { openTicketsWithAlerts, solveAnsweredTickets } from './open-tickets.ts';
import type { CompiledQuery } from './query.ts';

/** One brand a target listens for. */
export interface IngestBrand {
  id: number;
  /** The brand query; null: the brand keeps every item (reviews of its own branch or app). */
  matcher: CompiledQuery | null;
  /** The brand's sentiment models (adapted from its corrections); default: the shipped ones. */
  models?: SentimentModels;
  /** The brand's own accounts: what they post needs no reply. */
  ownAccounts?: readonly string[];
}

export interface IngestScope {
  /**
   * The target's brands in config order. An item is kept for each brand that keeps it; the first of them is
   * the brand it is stored for (its story, ticket and sentiment model). The first brand also owns the items
   * posted on its own page, which need not name it.
   */
  brands: readonly IngestBrand[];
  targetId: string | null;
  /** The target's exclusion query: what it matches is dropped, even on the brand's own targets. */
  exclude?: CompiledQuery | null;
}

export interface PreparedBatch {
  rows: MentionInput[];
  /** Each row's story (signature and compared text), aligned with `rows`. */
  stories: Story[];
  /** The brands each row names, aligned with `rows`; `rows[i].brand_id` is the first. */
  brandIds: number[][];
  unmatched: number;
  /** Items of the page that repeat an externalId already on the page. */
  repeated: number;
}

/** An item the page keeps, before it is scored: its text, the brands that keep it, its story. */
interface SelectedItem {
  draft: MentionDraft;
  title: string | null;
  text: string;
  story: Story;
  /** The brand it is stored for: the first that keeps it. */
  brand: Omit<IngestBrand, 'ownAccounts'> & { ownAccounts: ReadonlySet<string> };
  brandIds: number[];
}

interface Selection {
  items: SelectedItem[];
  unmatched: number;
  repeated: number;
}

/** The cheap part of preparing a page: normalize, keep what a brand's query matches, sign the story. */
function selectMentions(drafts: readonly MentionDraft[], scope: IngestScope): Selection {
  const byKey = new Map<string, SelectedItem>();
  let unmatched = 0;
  let repeated = 0;
  // A brand without models of its own is scored with the shipped ones, read when the first item is scored.
  const brands = scope.brands.map((brand) => ({ ...brand, ownAccounts: new Set((brand.ownAccounts ?? []).map(accountKey)) }));
  for (const crawled of drafts) {
    // Crawled text is anyone's: a NUL or a lone surrogate in it would fail the page's transaction in the store.
    const draft = storableValue(crawled);
    const title = draft.title === null ? null : normalizeText(draft.title) || null;
    const text = normalizeParagraphs(draft.text);
    const matchText = `${title ?? ''}\n${text}`;
    const keeping =
      scope.exclude && scope.exclude.match(matchText) !== null
        ? []
        : brands.filter((brand, i) => brand.matcher === null || (i === 0 && draft.onOwnPage) || brand.matcher.match(matchText) !== null);
    const brand = keeping[0];
    if (brand === undefined) {
      unmatched++;
      continue;
    }
    const key = mentionKey(draft.source, draft.externalId);
    if (byKey.has(key)) repeated++;
    byKey.set(key, { draft, title, text, story: storyOf(key, title, text), brand, brandIds: keeping.map((b) => b.id) });
  }
  return { items: [...byKey.values()], unmatched, repeated };
}

/** The costly part: language, sentiment and whether it needs a reply, with the models of its brand. */
function scoreMention(item: SelectedItem, targetId: string | null, now: Date): MentionInput {
  const { draft, title, text, story, brand } = item;
  const replyText = draft.reply ? normalizeText(draft.reply.text) : null;
  // Language, sentiment and the content hash read the text on one line, as before paragraphs were kept.
  const oneLine = normalizeText(text);
  const fullText = joinTitle(title, oneLine);
  const lang = detectLanguage(fullText);
  const sentiment = analyzeSentiment({ text: fullText, lang, rating: draft.rating }, brand.models ?? loadBaseModels());
  const action = assessActionability({
    text: fullText, lang, sentiment, rating: draft.rating,
    ownPost: isOwnAccount(draft.author, brand.ownAccounts),
    // The brand already answered on the source (2GIS official answer, store developer reply): no ticket.
    answered: draft.reply !== null,
    sponsored: draft.details?.sponsored === true,
  });
  return {
    source: draft.source,
    external_id: draft.externalId,
    brand_id: brand.id,
    target_id: targetId,
    url: draft.url,
    author: draft.author,
    title,
    text,
    content_hash: hashContent(title, oneLine, draft.rating, replyText),
    rating: draft.rating,
    published_at: draft.publishedAt,
    first_seen_at: now,
    updated_at: now,
    lang,
    sentiment: sentiment.label,
    sentiment_score: sentiment.score,
    sentiment_model: sentiment.model,
    sentiment_confidence: sentiment.confidence,
    sentiment_reason: sentiment.reason ?? null,
    actionable: action.actionable,
    action_reasons: action.reasons,
    metrics: draft.metrics,
    reply: draft.reply ? { text: replyText!, at: draft.reply.at } : null,
    parent_external_id: draft.parentExternalId,
    details: draft.details ?? {},
    fingerprint: story.fingerprint,
    lsh: [...story.bands],
  };
}

function batchOf(selection: Selection, rows: MentionInput[]): PreparedBatch {
  const { items, unmatched, repeated } = selection;
  return { rows, stories: items.map((i) => i.story), brandIds: items.map((i) => i.brandIds), unmatched, repeated };
}

/** The pure part of ingestion: normalize, keep brand matches, tag language and sentiment, hash content. */
export function prepareMentions(drafts: readonly MentionDraft[], scope: IngestScope, now: Date): PreparedBatch {
  const selection = selectMentions(drafts, scope);
  return batchOf(selection, selection.items.map((item) => scoreMention(item, scope.targetId, now)));
}

function accountKey(account: string): string {
  return account.trim().replace(/^@/, '').toLowerCase();
}

function isOwnAccount(author: MentionAuthor, own: ReadonlySet<string>): boolean {
  if (own.size === 0) return false;
  return [author.handle, author.id, author.name].some((value) => value !== null && value !== undefined && own.has(accountKey(String(value))));
}

/** What changes here is what makes a re-crawled item an update: the text, the rating, the brand's reply. */
export function hashContent(title: string | null, text: string, rating: number | null, reply: string | null): string {
  return createHash('sha256').update(JSON.stringify([title, text, rating, reply])).digest('base64url');
}

/**
 * Milliseconds spent per stage, summed over pages: what `npm run bench -- ingest` breaks the time into.
 * `lookup` runs on the database while the page's items are scored, so the stages may add up to more than the
 * total; `lookupWait` is the part of it the scoring did not cover.
 */
export interface StageTimings {
  /** Normalize, match, sign (select), then language, sentiment, actionability (score). */
  select: number;
  score: number;
  /** Which of the page's items are stored, and the stored candidates of the new ones' stories. */
  lookup: number;
  lookupWait: number;
  /** The clustering rule. */
  cluster: number;
  /** Mentions, clusters and brand links written. */
  write: number;
  /** Tickets, their pushes and alerts. */
  tickets: number;
}

export function createStageTimings(): StageTimings {
  return { select: 0, score: 0, lookup: 0, lookupWait: 0, cluster: 0, write: 0, tickets: 0 };
}

export interface PageCounts {
  new: number;
  updated: number;
  duplicates: number;
  unmatched: number;
  tickets: number;
}

/** A brand as a page is ingested for it. */
export interface PageBrand {
  id: number;
  name: string;
  ownAccounts?: readonly string[];
}

export interface PageScope {
  /** In the target's order; see `IngestScope.brands`. A null matcher keeps every item for that brand. */
  brands: readonly { brand: PageBrand; matcher: CompiledQuery | null; models?: SentimentModels }[];
  targetId: string | null;
  /** The team that owns the target's tickets; absent: the policy's default team. */
  team?: string | null;
  exclude?: CompiledQuery | null;
}

export interface IngestDeps {
  db: Db;
  now: () => Date;
  policy: TicketPolicy;
  timings?: StageTimings;
}

/** Another transaction stored one of the page's new items first: the page is read again. */
class ConcurrentIngestError extends Error {
  override name = 'ConcurrentIngestError';
}

const PAGE_ATTEMPTS = 3;

/** PostgreSQL chose this transaction to break a lock cycle with another crawl's page: the page can simply run again. */
function isDeadlock(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '40P01';
}

/**
 * One page through the pipeline in one transaction: keep the brands' mentions, store each new one once with
 * its story, open tickets for the actionable ones. `inside` runs in the same transaction (crawl progress is
 * written with the page). Cron, the CLI, the tests and the bench all ingest through here.
 */
export async function ingestPage(
  deps: IngestDeps,
  drafts: readonly MentionDraft[],
  scope: PageScope,
  inside?: (trx: Db, counts: PageCounts) => Promise<void>,
): Promise<PageCounts> {
  const timings = deps.timings;
  const lap = stopwatch(timings);
  const ingestScope: IngestScope = {
    brands: scope.brands.map(({ brand, matcher, models }) => ({
      id: brand.id, matcher,
      ...(models ? { models } : {}),
      ...(brand.ownAccounts ? { ownAccounts: brand.ownAccounts } : {}),
    })),
    targetId: scope.targetId,
    exclude: scope.exclude ?? null,
  };
  const selection = selectMentions(drafts, ingestScope);
  lap('select');
  const brandNames = new Map(scope.brands.map(({ brand }) => [brand.id, brand.name]));
  for (let attempt = 1; ; attempt++) {
    try {
      return await inTransaction(deps.db, async (trx) => {
        lap();
        // The store is asked what it knows of the page while the items are scored: the two overlap.
        const lookupStarted = performance.now();
        const looking = lookUpPage(trx, selection.items).then((found) => {
          if (timings) timings.lookup += performance.now() - lookupStarted;
          return found;
        });
        let rows: MentionInput[];
        try {
          rows = await scoreItems(selection.items, scope.targetId, deps.now(), timings);
        } finally {
          lap();
          // Never leave the transaction while its connection still has our lookup on it.
          await looking.catch(() => undefined);
        }
        lap('lookupWait');
        const stored = await storeBatch(trx, batchOf(selection, rows), await looking, lap);
        const tickets = await openTicketsWithAlerts(trx, stored.actionable, {
          brandNames, policy: deps.policy, now: deps.now(), team: scope.team ?? null,
        });
        await solveAnsweredTickets(trx, stored.answered, { policy: deps.policy, now: deps.now() });
        lap('tickets');
        const counts = { new: stored.new, updated: stored.updated, duplicates: stored.duplicates, unmatched: selection.unmatched, tickets };
        await inside?.(trx, counts);
        return counts;
      });
    } catch (err) {
      if (attempt < PAGE_ATTEMPTS && (err instanceof ConcurrentIngestError || isDeadlock(err))) continue;
      throw err;
    }
  }
}

type Lap = (stage?: keyof StageTimings) => void;

/** Adds the time since the last lap to a stage; a lap without a stage only restarts the clock. */
function stopwatch(timings: StageTimings | undefined): Lap {
  let last = performance.now();
  return (stage) => {
    const at = performance.now();
    if (timings && stage) timings[stage] += at - last;
    last = at;
  };
}

// Items scored between two turns of the event loop: the lookup's next statement goes out in between.
const SCORED_PER_TURN = 4;

async function scoreItems(items: readonly SelectedItem[], targetId: string | null, now: Date, timings: StageTimings | undefined): Promise<MentionInput[]> {
  const rows: MentionInput[] = [];
  for (let i = 0; i < items.length; i++) {
    if (i > 0 && i % SCORED_PER_TURN === 0) await setImmediate();
    const started = performance.now();
    rows.push(scoreMention(items[i]!, targetId, now));
    if (timings) timings.score += performance.now() - started;
  }
  return rows;
}

interface PageLookup {
  known: Map<string, KnownMention>;
  /** What the store knows of the stories of the page's new items, per brand. */
  stories: Map<number, FoundStories>;
  /** Ids for the new items and for the clusters they may found (one each at most; unused ones are skipped). */
  ids: { mentions: string[]; clusters: string[] };
}

/** Which items are stored already; for the new ones, the stored stories they may belong to. */
async function lookUpPage(trx: Db, items: readonly SelectedItem[]): Promise<PageLookup> {
  const known = await findKnownMentions(trx, items.map((i) => ({ source: i.draft.source, externalId: i.draft.externalId })));
  const byBrand = new Map<number, Story[]>();
  for (const item of items) {
    if (known.has(item.story.key)) continue;
    const list = byBrand.get(item.brand.id);
    if (list) list.push(item.story);
    else byBrand.set(item.brand.id, [item.story]);
  }
  const stories = new Map<number, FoundStories>();
  let fresh = 0;
  for (const [brandId, list] of byBrand) {
    stories.set(brandId, await findStoredStories(trx, brandId, list, CANDIDATES_PER_STORY));
    fresh += list.length;
  }
  return { known, stories, ids: await reserveIds(trx, { mentions: fresh, clusters: fresh }) };
}

interface Placement {
  clusterId: string;
  founded: boolean;
  indexed: boolean;
}

/** Each new item's story, among its brand's stories, by the one rule; `new:<key>` names a cluster founded here. */
function placeNewItems(batch: PreparedBatch, fresh: readonly number[], lookup: PageLookup): Map<number, Placement> {
  const placed = new Map<number, Placement>();
  const byBrand = new Map<number, number[]>();
  for (const i of fresh) {
    const brandId = batch.rows[i]!.brand_id;
    const list = byBrand.get(brandId);
    if (list) list.push(i);
    else byBrand.set(brandId, [i]);
  }
  for (const [brandId, indices] of byBrand) {
    const stories = indices.map((i) => batch.stories[i]!);
    const assignments = assignStories(stories, storedCandidateIndex(lookup.stories.get(brandId)!), (s) => `new:${s.key}`);
    indices.forEach((i, n) => placed.set(i, assignments[n]!));
  }
  return placed;
}

/** The cluster rows a page's new items found, and how they grow the stored clusters they join. */
function clusterChanges(
  batch: PreparedBatch,
  fresh: readonly number[],
  placed: ReadonlyMap<number, Placement>,
  clusterOf: (i: number) => string,
  mentionIds: ReadonlyMap<number, string>,
): { created: NewCluster[]; grown: ClusterGrowth[] } {
  const created = new Map<string, NewCluster>();
  const grown = new Map<string, ClusterGrowth & { sourceSet: Set<string> }>();
  for (const i of fresh) {
    const row = batch.rows[i]!;
    const id = clusterOf(i);
    const seenAt = new Date(row.first_seen_at);
    if (placed.get(i)!.founded) {
      const cluster = created.get(id);
      if (cluster === undefined) {
        created.set(id, { id, brandId: row.brand_id, representativeId: mentionIds.get(i)!, size: 1, sources: [row.source], firstSeenAt: seenAt, lastSeenAt: seenAt });
      } else {
        cluster.size++;
        if (!cluster.sources.includes(row.source)) cluster.sources = [...cluster.sources, row.source];
        if (seenAt > cluster.lastSeenAt) cluster.lastSeenAt = seenAt;
      }
      continue;
    }
    const growth = grown.get(id) ?? { id, added: 0, sources: [], sourceSet: new Set<string>(), lastSeenAt: seenAt };
    growth.added++;
    growth.sourceSet.add(row.source);
    if (seenAt > growth.lastSeenAt) growth.lastSeenAt = seenAt;
    grown.set(id, growth);
  }
  return { created: [...created.values()], grown: [...grown.values()].map(({ sourceSet, ...g }) => ({ ...g, sources: [...sourceSet] })) };
}

interface StoredBatch {
  /** New and changed mentions that need a reply, with their stories. */
  actionable: { id: string; row: MentionInput; clusterId: string | null }[];
  /** Changed mentions that now carry the brand's answer on the source. */
  answered: { id: string; reply: { text: string; at: string | null } }[];
  new: number;
  updated: number;
  duplicates: number;
}

/**
 * Stores a prepared page: places the new items in their stories (per brand, with the one rule), then writes
 * each new mention once with its cluster, the clusters they found or grow, the changed mentions and every
 * brand link.
 */
async function storeBatch(trx: Db, batch: PreparedBatch, lookup: PageLookup, lap: Lap): Promise<StoredBatch> {
  const { known } = lookup;
  const fresh: number[] = [];
  const changed: number[] = [];
  batch.rows.forEach((row, i) => {
    const stored = known.get(batch.stories[i]!.key);
    if (stored === undefined) fresh.push(i);
    else if (stored.contentHash !== row.content_hash) changed.push(i);
  });

  const placed = placeNewItems(batch, fresh, lookup);
  lap('cluster');
  const founded = [...new Set(fresh.filter((i) => placed.get(i)!.founded).map((i) => placed.get(i)!.clusterId))];
  const { ids } = lookup;
  const clusterIds = new Map(founded.map((placeholder, n) => [placeholder, ids.clusters[n]!]));
  const mentionIds = new Map(fresh.map((i, n) => [i, ids.mentions[n]!]));
  const clusterOf = (i: number) => {
    const { clusterId } = placed.get(i)!;
    return clusterIds.get(clusterId) ?? clusterId;
  };
  // In key order: two pages that share items take their unique-key locks in the same order, and cannot deadlock.
  const inKeyOrder = [...fresh].sort((a, b) => (batch.stories[a]!.key < batch.stories[b]!.key ? -1 : 1));
  const written = await insertMentions(
    trx,
    inKeyOrder.map((i) => {
      const row = batch.rows[i]!;
      return { ...row, id: mentionIds.get(i)!, cluster_id: clusterOf(i), lsh: placed.get(i)!.indexed ? row.lsh ?? [] : [] };
    }),
  );
  if (written.size < fresh.length) throw new ConcurrentIngestError('an item of the page was stored by another transaction meanwhile');

  const { created, grown } = clusterChanges(batch, fresh, placed, clusterOf, mentionIds);
  await insertClusters(trx, created);
  await growClusters(trx, grown);

  const updated = await upsertMentions(trx, changed.map((i) => batch.rows[i]!));
  // Every brand the item names, whichever target first stored it: a repeat from another brand's target links it too.
  await linkMentionBrands(
    trx,
    batch.brandIds.flatMap((brandIds, i) => {
      const mentionId = mentionIds.get(i) ?? known.get(batch.stories[i]!.key)!.id;
      return brandIds.map((brandId) => ({ mentionId, brandId }));
    }),
  );
  lap('write');

  const rowsByKey = new Map(batch.rows.map((row, i) => [batch.stories[i]!.key, row]));
  const actionable = [
    ...fresh.filter((i) => batch.rows[i]!.actionable).map((i) => ({ id: mentionIds.get(i)!, row: batch.rows[i]!, clusterId: clusterOf(i) })),
    ...updated
      .filter((u) => u.actionable)
      .map((u) => {
        const key = mentionKey(u.source, u.external_id);
        return { id: u.id, row: rowsByKey.get(key)!, clusterId: u.cluster_id };
      }),
  ];
  const answered = updated.flatMap((u) => {
    const reply = rowsByKey.get(mentionKey(u.source, u.external_id))!.reply;
    return reply ? [{ id: u.id, reply: { text: reply.text, at: reply.at } }] : [];
  });
  return { actionable, answered, new: fresh.length, updated: updated.length, duplicates: batch.rows.length - fresh.length - updated.length + batch.repeated };
}
