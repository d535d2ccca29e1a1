import { compareTexts, prepareText, signPrepared, type PreparedText } from './dedupe.ts';

export interface ClusterIndex {
  /** Adds a text and returns its cluster: the id of the cluster's first member. */
  add(id: string, text: string): string;
}

// Band keys are shared by chance too, and a viral story can have hundreds of members: confirming against
// the few sharing most bands is enough, they are the likeliest to be the same story.
const MAX_CONFIRMED = 20;
// A band can be common to thousands of texts (a channel's signature paragraph gets bands of its own, see
// signText): only its latest members are counted, so adding a text costs the same however many came before.
// The copies of a story share its other bands, which are not crowded.
const MAX_BAND_SCAN = 200;

interface Member {
  cluster: string;
  text: PreparedText;
}

/**
 * In-memory clustering with the database's rule: an exact copy (same fingerprint) joins its cluster; else the
 * LSH candidates, most shared bands first, are confirmed by the exact comparison and the text joins the
 * cluster of the most similar confirmed one; else it starts a cluster of its own.
 */
export function createClusterIndex(): ClusterIndex {
  const byFingerprint = new Map<string, string>();
  const byBand = new Map<string, number[]>();
  const members: Member[] = [];

  function nearest(text: PreparedText, bands: readonly string[]): string | undefined {
    const shared = new Map<number, number>();
    for (const band of bands) {
      const list = byBand.get(band) ?? [];
      for (let i = Math.max(0, list.length - MAX_BAND_SCAN); i < list.length; i++) shared.set(list[i]!, (shared.get(list[i]!) ?? 0) + 1);
    }
    // Ties go to the earlier member, so the result does not depend on Map order.
    const ranked = [...shared].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, MAX_CONFIRMED);
    let best: { cluster: string; score: number } | undefined;
    for (const [m] of ranked) {
      const member = members[m]!;
      const { score } = compareTexts(text, member.text);
      if (score > (best?.score ?? 0)) best = { cluster: member.cluster, score };
    }
    return best?.cluster;
  }

  return {
    add(id, text) {
      const prepared = prepareText(text);
      const { fingerprint, bands } = signPrepared(prepared);
      const copyOf = fingerprint === null ? undefined : byFingerprint.get(fingerprint);
      // An exact copy adds nothing to compare against: its cluster already has the same text and bands.
      if (copyOf !== undefined) return copyOf;
      const cluster = nearest(prepared, bands) ?? id;
      if (fingerprint !== null) byFingerprint.set(fingerprint, cluster);
      const index = members.push({ cluster, text: prepared }) - 1;
      for (const band of bands) {
        const list = byBand.get(band);
        if (list) list.push(index);
        else byBand.set(band, [index]);
      }
      return cluster;
    },
  };
}
