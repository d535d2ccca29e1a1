import type { FoundStories, StoredCandidate } from '../store/clusters.ts';
import { compareTexts, prepareText, signText, type PreparedText } from './dedupe.ts';
import { normalizeParagraphs } from './normalize.ts';

/**
 * The one clustering rule: which story a text belongs to. It runs over a candidate index, in memory for
 * `earshot cluster` and the bench, backed by the store for a crawl (see `storedCandidateIndex`); both give
 * the same clusters for the same texts in the same order.
 */

/** A text as the rule sees it. */
export interface Story {
  /** Unique among the stories of one index: the line's id, or a mention's source and external id. */
  key: string;
  /** Title and text as stored (normalized, one paragraph per line): what it is signed and compared on. */
  text: string;
  /** See `TextSignature`: a comment paragraph gets bands of its own. */
  fingerprint: string | null;
  bands: readonly string[];
}

/** A stored or earlier story that shares bands with the one being placed. */
export interface Candidate {
  clusterId: string;
  /** How many of the asking story's bands it shares. */
  shared: number;
  /** Higher is newer: of candidates sharing as many bands, the newer is confirmed first. */
  recency: number;
  text(): PreparedText;
}

export interface CandidateIndex {
  /** The cluster of an exact copy (same fingerprint), if one is known. */
  exactCopy(fingerprint: string): string | undefined;
  /** Indexed stories sharing at least one band with `story`, in any order. */
  sharingBands(story: Story): readonly Candidate[];
  /** How many stories the cluster holds so far. */
  sizeOf(clusterId: string): number;
  /** Records where a story went; an indexed one is offered as a candidate to the stories after it. */
  add(story: Story, clusterId: string, indexed: boolean): void;
}

export interface Assignment {
  clusterId: string;
  /** The story starts its cluster (the cluster's id is `newClusterId(story)`). */
  founded: boolean;
  /** The story's bands stay in the index; see INDEXED_MEMBERS. */
  indexed: boolean;
}

// LSH bands can be shared by chance; a viral story can have thousands of members. Confirming against a
// few of them, most bands shared first, is enough: they are all the same story.
export const CANDIDATES_PER_STORY = 20;
// A near-certain copy settles it: in a viral story every candidate is another copy of the same one.
const SURE_COPY = 0.9;
// How many members of a story keep their band keys in the index: enough variants to meet new copies, while a
// viral story's keys do not grow the posting lists every new text must read through. An exact copy adds
// nothing to compare against (its fingerprint finds it) and is not indexed either.
const INDEXED_MEMBERS = 20;

/** The story of a title and a text as they are stored: normalized, the text one paragraph per line. */
export function storyOf(key: string, title: string | null, text: string): Story {
  const joined = joinTitle(title, text);
  const signature = signText(joined);
  return { key, text: joined, fingerprint: signature.fingerprint, bands: signature.bands };
}

/** How a mention's title and text are read as one: for clustering, training and display alike. */
export function joinTitle(title: string | null, text: string): string {
  return title ? `${title}. ${text}` : text;
}

/**
 * Places each story, in order: the cluster of an exact copy; else of the most similar confirmed candidate
 * among the CANDIDATES_PER_STORY sharing most bands; else a cluster of its own, named `newClusterId(story)`.
 */
export function assignStories(
  stories: readonly Story[],
  index: CandidateIndex,
  newClusterId: (story: Story) => string = (story) => story.key,
): Assignment[] {
  return stories.map((story) => {
    const copy = story.fingerprint === null ? undefined : index.exactCopy(story.fingerprint);
    const confirmed = copy ?? confirm(story, index.sharingBands(story));
    const clusterId = confirmed ?? newClusterId(story);
    const indexed = copy === undefined && story.bands.length > 0 && index.sizeOf(clusterId) < INDEXED_MEMBERS;
    index.add(story, clusterId, indexed);
    return { clusterId, founded: confirmed === undefined, indexed };
  });
}

function confirm(story: Story, candidates: readonly Candidate[]): string | undefined {
  if (story.bands.length === 0 || candidates.length === 0) return undefined;
  const ranked = candidates
    .filter((c) => c.shared > 0)
    .sort((a, b) => b.shared - a.shared || b.recency - a.recency)
    .slice(0, CANDIDATES_PER_STORY);
  if (ranked.length === 0) return undefined;
  const mine = preparedOf(story);
  let best: { clusterId: string; score: number } | undefined;
  for (const candidate of ranked) {
    const { score } = compareTexts(mine, candidate.text());
    if (score > 0 && (best === undefined || score > best.score)) best = { clusterId: candidate.clusterId, score };
    if (score >= SURE_COPY) break;
  }
  return best?.clusterId;
}

// A story is compared as the asker and, once indexed, as a candidate: prepared once.
const prepared = new WeakMap<Story, PreparedText>();
function preparedOf(story: Story): PreparedText {
  let p = prepared.get(story);
  if (p === undefined) prepared.set(story, (p = prepareText(story.text)));
  return p;
}

/** The index of the stories added to it, in memory. `recencyFrom` numbers them (see `Candidate.recency`). */
export function createMemoryIndex(recencyFrom = 0): CandidateIndex {
  const byFingerprint = new Map<string, string>();
  const byBand = new Map<string, number[]>();
  const members: { clusterId: string; story: Story }[] = [];
  const sizes = new Map<string, number>();
  return {
    exactCopy: (fingerprint) => byFingerprint.get(fingerprint),
    sharingBands(story) {
      const shared = new Map<number, number>();
      for (const band of story.bands) for (const m of byBand.get(band) ?? []) shared.set(m, (shared.get(m) ?? 0) + 1);
      return [...shared].map(([m, count]) => {
        const member = members[m]!;
        return { clusterId: member.clusterId, shared: count, recency: recencyFrom + m, text: () => preparedOf(member.story) };
      });
    },
    sizeOf: (clusterId) => sizes.get(clusterId) ?? 0,
    add(story, clusterId, indexed) {
      sizes.set(clusterId, (sizes.get(clusterId) ?? 0) + 1);
      if (story.fingerprint !== null && !byFingerprint.has(story.fingerprint)) byFingerprint.set(story.fingerprint, clusterId);
      if (!indexed) return;
      const m = members.push({ clusterId, story }) - 1;
      for (const band of story.bands) {
        const list = byBand.get(band);
        if (list) list.push(m);
        else byBand.set(band, [m]);
      }
    },
  };
}

// Stories of the page being ingested are newer than any stored mention (ids are far below 2^52).
const PAGE_RECENCY = 2 ** 52;

/**
 * The store's answer for a page, with the page's own stories added as they are placed: what a crawl clusters
 * over. Stored candidates outrank none of the page's: the store already returns its best per story.
 */
export function storedCandidateIndex(stored: FoundStories): CandidateIndex {
  const page = createMemoryIndex(PAGE_RECENCY);
  const texts = new Map<string, PreparedText>();
  const textOf = (c: StoredCandidate) => {
    let p = texts.get(c.mentionId);
    if (p === undefined) texts.set(c.mentionId, (p = prepareText(joinTitle(c.title, c.text))));
    return p;
  };
  return {
    exactCopy: (fingerprint) => stored.exact.get(fingerprint) ?? page.exactCopy(fingerprint),
    sharingBands: (story) => [
      ...(stored.candidates.get(story.key) ?? []).map((c) => ({
        clusterId: c.clusterId, shared: c.shared, recency: Number(c.mentionId), text: () => textOf(c),
      })),
      ...page.sharingBands(story),
    ],
    sizeOf: (clusterId) => (stored.sizes.get(clusterId) ?? 0) + page.sizeOf(clusterId),
    add: page.add,
  };
}

export interface ClusterIndex {
  /** Adds a text and returns its cluster: the id of the cluster's first member. */
  add(id: string, text: string): string;
}

/** `earshot cluster` and the bench: texts one by one, clustered in memory with the crawl's rule. */
export function createClusterIndex(): ClusterIndex {
  const index = createMemoryIndex();
  return {
    add: (id, text) => assignStories([storyOf(id, null, normalizeParagraphs(text))], index)[0]!.clusterId,
  };
}
