import { replayCrisis, type ReplayIncident } from '../alerts/crisis/replay.ts';
import {
  BUSY_BRAND, generateMentionHistory, MEDIUM_BRAND, QUIET_BRAND, SMALL_BRAND, type BrandProfile,
} from '../tests/helpers/crisis-data.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
const START = Date.parse('2026-03-02T00:00:00Z');

interface Scenario {
  profile: BrandProfile;
  count: number;
  minutes: number;
  authors: number;
}

// Bursts of negative mentions from many authors, on each kind of brand: the product's two targets (40 in
// 6 min on a busy brand: critical within 3 min; 6 from 5 authors in 2 h on a quiet one: a warning) and the
// sizes around them.
const SCENARIOS: readonly Scenario[] = [
  { profile: BUSY_BRAND, count: 20, minutes: 6, authors: 20 },
  { profile: BUSY_BRAND, count: 40, minutes: 6, authors: 30 },
  { profile: BUSY_BRAND, count: 100, minutes: 30, authors: 80 },
  { profile: BUSY_BRAND, count: 300, minutes: 180, authors: 200 },
  { profile: MEDIUM_BRAND, count: 15, minutes: 10, authors: 12 },
  { profile: MEDIUM_BRAND, count: 40, minutes: 60, authors: 30 },
  { profile: SMALL_BRAND, count: 12, minutes: 60, authors: 10 },
  { profile: QUIET_BRAND, count: 4, minutes: 60, authors: 4 },
  { profile: QUIET_BRAND, count: 6, minutes: 120, authors: 5 },
  { profile: QUIET_BRAND, count: 12, minutes: 360, authors: 9 },
];

/**
 * The crisis detector on generated histories (tests/helpers/crisis-data.ts), replayed minute by minute:
 * - `crisis-burst`: per scenario over the seeds, a burst in the history's last week (a day and hour per seed):
 *   how often an incident was there for it, after how many minutes (opened, or reopened within a
 *   cooldown), when it was critical, its highest severity, how many incidents the burst brought;
 * - `crisis-background`: per brand, the incidents of ordinary talk without any burst (false alarms), per
 *   brand-week, mean and worst seed, and which rules made them;
 * - `crisis-replay`: replay speed on the busy brand's history.
 */
export async function benchCrisis(opts: { seeds: number; days: number }): Promise<void> {
  const seeds = Array.from({ length: opts.seeds }, (_, i) => i + 1);
  for (const scenario of SCENARIOS) {
    const runs = seeds.map((seed) => runBurst(scenario, seed, opts.days));
    const found = runs.filter((r) => r.delay !== null);
    const critical = runs.filter((r) => r.criticalDelay !== null);
    print({
      bench: 'crisis-burst', brand: scenario.profile.brand, burst: `${scenario.count} in ${scenario.minutes} min from ${scenario.authors} authors`,
      runs: runs.length, detected: found.length, already_open: runs.filter((r) => r.alreadyOpen).length,
      delay_min_median: median(found.map((r) => r.delay!)), delay_min_max: max(found.map((r) => r.delay!)),
      warnings: runs.filter((r) => r.severity === 'warning').length, criticals: critical.length,
      critical_delay_min_median: median(critical.map((r) => r.criticalDelay!)), critical_delay_min_max: max(critical.map((r) => r.criticalDelay!)),
      incidents_per_run: round(runs.reduce((s, r) => s + r.incidents, 0) / runs.length),
    });
  }

  const brands = [BUSY_BRAND, MEDIUM_BRAND, SMALL_BRAND, QUIET_BRAND];
  const perBrand = new Map(brands.map((b) => [b.brand, { weeks: 0, warnings: 0, criticals: 0, worst: 0, rules: {} as Record<string, number> }]));
  for (const seed of seeds) {
    const mentions = generateMentionHistory({ seed, start: START, days: opts.days, brands });
    const { incidents } = replayCrisis(mentions);
    for (const brand of brands) {
      const tally = perBrand.get(brand.brand)!;
      const own = mentions.filter((m) => m.brand === brand.brand);
      const weeks = (own.at(-1)!.at - own[0]!.at) / WEEK;
      const mine = incidents.filter((i) => i.brand === brand.brand);
      const warnings = mine.filter((i) => i.severity === 'warning').length;
      tally.weeks += weeks;
      tally.warnings += warnings;
      tally.criticals += mine.length - warnings;
      tally.worst = Math.max(tally.worst, warnings / weeks);
      for (const rule of mine.flatMap((i) => i.why.rules)) tally.rules[rule] = (tally.rules[rule] ?? 0) + 1;
    }
  }
  for (const [brand, t] of perBrand) {
    print({
      bench: 'crisis-background', brand, seeds: seeds.length, brand_weeks: round(t.weeks), warnings_per_week: round(t.warnings / t.weeks),
      criticals_per_week: round(t.criticals / t.weeks), worst_seed_warnings_per_week: round(t.worst), rules: t.rules,
    });
  }

  const mentions = generateMentionHistory({ seed: 1, start: START, days: opts.days, brands: [BUSY_BRAND] });
  const started = performance.now();
  replayCrisis(mentions);
  const seconds = (performance.now() - started) / 1000;
  print({ bench: 'crisis-replay', brand: 'busy', days: opts.days, mentions: mentions.length, seconds: round(seconds), mentions_per_s: Math.round(mentions.length / seconds) });
}

interface BurstRun {
  /** Minutes from the burst's start to an incident opening (or reopening) for it; null when none did. */
  delay: number | null;
  /** Minutes from the burst's start to that incident (or one already open) being critical; null when never. */
  criticalDelay: number | null;
  alreadyOpen: boolean;
  severity: 'warning' | 'critical' | null;
  /** Incidents opened or reopened in the 12 hours from the burst's start. */
  incidents: number;
}

function runBurst(scenario: Scenario, seed: number, days: number): BurstRun {
  // In the last week, on a different day and hour for each seed (07:07 to 15:07 UTC, daytime in UTC+3…+5).
  const burstAt = START + (days - 2 - (seed % 5)) * DAY + (7 + 2 * (seed % 5)) * HOUR + 7 * MINUTE;
  const brand = scenario.profile.brand;
  const mentions = generateMentionHistory({
    seed, start: START, days, brands: [scenario.profile], bursts: [{ brand, start: burstAt, minutes: scenario.minutes, count: scenario.count, authors: scenario.authors }],
  });
  const { incidents } = replayCrisis(mentions);
  const until = burstAt + 12 * HOUR;
  const openAt = (i: ReplayIncident) => i.openedAt < burstAt && (i.resolvedAt === null || i.resolvedAt > burstAt);
  const starts = (i: ReplayIncident) => [i.openedAt, ...i.reopenedAt].filter((t) => t >= burstAt && t < until);
  const already = incidents.find(openAt);
  const fresh = incidents.filter((i) => starts(i).length > 0);
  const first = fresh.length > 0 ? Math.min(...fresh.flatMap(starts)) : null;
  const incident = already ?? fresh.find((i) => starts(i).includes(first!)) ?? null;
  const critical = incident?.criticalAt ?? null;
  return {
    delay: first === null ? null : (first - burstAt) / MINUTE,
    criticalDelay: critical === null || critical >= until ? null : Math.max(0, critical - burstAt) / MINUTE,
    alreadyOpen: already !== undefined,
    severity: incident?.severity ?? null,
    incidents: fresh.reduce((s, i) => s + starts(i).length, 0),
  };
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

function max(xs: number[]): number | null {
  return xs.length === 0 ? null : Math.max(...xs);
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

function print(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}
