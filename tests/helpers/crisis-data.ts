import type { ReplayMention } from '../../alerts/crisis/replay.ts';
import { prng } from '../../sentiment/train/sgd.ts';

/**
 * Mention histories for the crisis detector, deterministic from a seed: weeks of ordinary talk about a brand,
 * with the texture real listening data has, plus the bursts a test injects.
 *
 * - Rhythm: an hour-of-day curve in the brand's time zone (people sleep: 4 am is ~15× quieter than noon),
 *   a weekend factor.
 * - Overdispersion: each day gets a gamma-distributed rate factor (news days), and the rate wanders hour to
 *   hour (a log-AR(1): a lively afternoon stays lively for a few hours rather than jumping 2× and back), so
 *   hourly counts vary far more than a Poisson process would (NB size k ≈ 4–6 per hour), and a day's
 *   negatives vary by ~30% from one day to the next.
 * - Negative share: around the brand's mean, drifting by day and by hour (10–20% is typical of brands).
 * - Authors: most mentions come from people who mention the brand once; a Zipf-weighted pool of regulars
 *   (fans, critics, aggregators, bots) comes back again and again.
 * - Reach: the author's followers, log-normal with median ~200 and a long tail: ~1% of posts reach 10k+,
 *   about 1 in 20,000 reaches 100k+. In real monitoring an account that big (a media outlet, a celebrity)
 *   writes about a given brand rarely, and negatively more rarely still; with these numbers a busy brand
 *   (650 negatives a day) gets a 100k+ negative about once a month and a quiet one about never, which is
 *   what keeps the single-post rule from flooding. 15% of posts carry no reach (reviews, forums).
 * - Reposts: a post may get copies (retweets, forwards, syndicated news) sharing its story id, same tone,
 *   posted by other authors over the next hour or so; the number of copies is heavy-tailed (most none,
 *   1 in 200 ten or more, at most 30).
 */

export interface BrandProfile {
  brand: string;
  /** Mean mentions per minute, every tone, over a week. */
  perMinute: number;
  /** Mean share of negative mentions. */
  negativeShare: number;
  /** The pool of regular authors. */
  regulars: number;
  /** Activity on Saturday and Sunday relative to weekdays. */
  weekendFactor: number;
  /** The brand's audience's time zone, for the daily rhythm. */
  utcOffsetHours: number;
}

/** ≈3 mentions a minute of every tone, ≈650 negatives a day: the high-volume regime. */
export const BUSY_BRAND: BrandProfile = { brand: 'busy', perMinute: 3, negativeShare: 0.15, regulars: 5000, weekendFactor: 0.8, utcOffsetHours: 3 };
/** ≈65 negatives a day: just above the regime boundary. */
export const MEDIUM_BRAND: BrandProfile = { brand: 'medium', perMinute: 0.3, negativeShare: 0.15, regulars: 800, weekendFactor: 0.9, utcOffsetHours: 5 };
/** ≈22 negatives a day: the low-volume regime with hours that are rarely empty. */
export const SMALL_BRAND: BrandProfile = { brand: 'small', perMinute: 0.1, negativeShare: 0.15, regulars: 300, weekendFactor: 1.1, utcOffsetHours: 3 };
/** ≈2 negatives a day (≈13 mentions of every tone). */
export const QUIET_BRAND: BrandProfile = { brand: 'quiet', perMinute: 2 / 0.15 / 1440, negativeShare: 0.15, regulars: 60, weekendFactor: 1.2, utcOffsetHours: 3 };

/** Negative mentions of `brand` at uniformly random moments in [start, start + minutes), from `authors` distinct new authors. */
export interface Burst {
  brand: string;
  start: number;
  minutes: number;
  count: number;
  authors: number;
  /** Each post's reach (default: the usual distribution, kept under 10k so the post rule stays out of it). */
  reach?: number | null;
}

export interface HistoryOptions {
  seed: number;
  /** Epoch ms; best on an hour. */
  start: number;
  days: number;
  brands: readonly BrandProfile[];
  bursts?: readonly Burst[];
}

// People sleep: relative activity by local hour of day, 0–23.
const DAY_CURVE = [
  0.35, 0.22, 0.14, 0.1, 0.09, 0.12, 0.25, 0.5, 0.85, 1.15, 1.35, 1.45, 1.5, 1.5, 1.45, 1.45, 1.4, 1.4, 1.35, 1.35, 1.3, 1.15, 0.9, 0.6,
];
const DAY_FACTOR_SHAPE = 16;
/** The hourly log-rate factor: its correlation from one hour to the next, and its spread. */
const HOUR_FACTOR_CORRELATION = 0.8;
const HOUR_FACTOR_SD = 0.35;
const DAY_SHARE_SHAPE = 40;
const HOUR_SHARE_SHAPE = 40;
const REPEAT_SHARE = 0.3;
const ZIPF_S = 1.1;
const REACH_LOG_MEDIAN = Math.log(200);
const REACH_LOG_SD = 1.6;
const NO_REACH = 0.15;
const COPY_CHANCE = 0.15;
const COPY_TAIL = 1.5;
const MAX_COPIES = 30;
const COPY_DELAY_MINUTES = 45;
const MEAN_COPIES = meanCopies();

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/** Every mention of every brand, oldest first. */
export function generateMentionHistory(opts: HistoryOptions): ReplayMention[] {
  const rng = prng(opts.seed * 1000 + 999);
  const out = [
    ...opts.brands.map((profile, i) => generateBrand(profile, opts, prng(opts.seed * 1000 + i + 1))),
    ...(opts.bursts ?? []).map((burst, b) => generateBurst(burst, b, rng)),
  ].flat();
  return out.filter((m) => m.at >= opts.start && m.at < opts.start + opts.days * DAY_MS).sort((a, b) => a.at - b.at);
}

/** The line of a `earshot crisis replay` file. */
export function toReplayLine(m: ReplayMention): string {
  return JSON.stringify({
    brand: m.brand, published_at: new Date(m.at).toISOString(), sentiment: m.sentiment, author: m.author, reach: m.reach,
    ...(m.story === null ? {} : { story: m.story }),
  });
}

function generateBrand(profile: BrandProfile, opts: HistoryOptions, rng: Rng): ReplayMention[] {
  const weights = weekWeights(profile);
  const regulars = zipfTable(profile.regulars);
  const regularReach = Array.from({ length: profile.regulars }, () => drawReach(rng));
  let fresh = 0;
  let stories = 0;
  const author = (): { author: string; reach: number | null } => {
    if (rng() < REPEAT_SHARE) {
      const i = pickZipf(regulars, rng());
      return { author: `${profile.brand}-regular-${i}`, reach: regularReach[i]! };
    }
    return { author: `${profile.brand}-person-${fresh++}`, reach: drawReach(rng) };
  };

  const out: ReplayMention[] = [];
  // Originals come at the rate that, copies included, gives perMinute on average.
  const perHour = (profile.perMinute * 60) / (1 + MEAN_COPIES);
  const innovation = HOUR_FACTOR_SD * Math.sqrt(1 - HOUR_FACTOR_CORRELATION ** 2);
  let logFactor = HOUR_FACTOR_SD * normal(rng);
  for (let d = 0; d < opts.days; d++) {
    const dayFactor = gamma(rng, DAY_FACTOR_SHAPE) / DAY_FACTOR_SHAPE;
    const dayShare = gamma(rng, DAY_SHARE_SHAPE) / DAY_SHARE_SHAPE;
    for (let h = 0; h < 24; h++) {
      const hourStart = opts.start + d * DAY_MS + h * HOUR_MS;
      logFactor = HOUR_FACTOR_CORRELATION * logFactor + innovation * normal(rng);
      // exp(x − sd²/2) has mean 1.
      const hourFactor = Math.exp(logFactor - HOUR_FACTOR_SD ** 2 / 2);
      const rate = perHour * weights(hourStart) * dayFactor * hourFactor;
      const share = Math.min(0.9, profile.negativeShare * dayShare * (gamma(rng, HOUR_SHARE_SHAPE) / HOUR_SHARE_SHAPE));
      // A Poisson process at this hour's rate: exponential gaps.
      for (let t = hourStart + exponential(rng, HOUR_MS / rate); t < hourStart + HOUR_MS; t += exponential(rng, HOUR_MS / rate)) {
        const sentiment = rng() < share ? 'negative' : rng() < 0.6 ? 'neutral' : 'positive';
        const copies = drawCopies(rng);
        const story = copies > 0 ? `${profile.brand}-story-${stories++}` : null;
        out.push({ brand: profile.brand, at: Math.floor(t), sentiment, ...author(), story });
        for (let c = 0; c < copies; c++) {
          out.push({ brand: profile.brand, at: Math.floor(t + exponential(rng, COPY_DELAY_MINUTES * MINUTE_MS)), sentiment, ...author(), story });
        }
      }
    }
  }
  return out;
}

function generateBurst(burst: Burst, index: number, rng: Rng): ReplayMention[] {
  const out: ReplayMention[] = [];
  for (let i = 0; i < burst.count; i++) {
    const reach = burst.reach !== undefined ? burst.reach : Math.min(drawReach(rng) ?? 0, 9_999);
    out.push({
      brand: burst.brand, at: Math.floor(burst.start + rng() * burst.minutes * MINUTE_MS), sentiment: 'negative',
      author: `${burst.brand}-burst-${index}-author-${i % burst.authors}`, reach, story: null,
    });
  }
  return out;
}

/** Relative activity of the hour starting at `at`, scaled so a week averages 1. */
function weekWeights(profile: BrandProfile): (at: number) => number {
  const raw = (at: number) => {
    const local = new Date(at + profile.utcOffsetHours * HOUR_MS);
    const weekend = local.getUTCDay() === 0 || local.getUTCDay() === 6;
    return DAY_CURVE[local.getUTCHours()]! * (weekend ? profile.weekendFactor : 1);
  };
  let sum = 0;
  for (let h = 0; h < 168; h++) sum += raw(h * HOUR_MS);
  const mean = sum / 168;
  return (at) => raw(at) / mean;
}

function drawReach(rng: Rng): number | null {
  if (rng() < NO_REACH) return null;
  return Math.round(Math.exp(REACH_LOG_MEDIAN + REACH_LOG_SD * normal(rng)));
}

/** P(copies ≥ n) = COPY_CHANCE · n^−COPY_TAIL for n ≥ 1, capped. */
function drawCopies(rng: Rng): number {
  const u = rng();
  if (u >= COPY_CHANCE) return 0;
  return Math.min(MAX_COPIES, Math.floor((COPY_CHANCE / u) ** (1 / COPY_TAIL)));
}

function meanCopies(): number {
  let sum = 0;
  for (let n = 1; n <= MAX_COPIES; n++) sum += COPY_CHANCE * n ** -COPY_TAIL;
  return sum;
}

function zipfTable(n: number): Float64Array {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) cdf[i] = sum += 1 / (i + 1) ** ZIPF_S;
  for (let i = 0; i < n; i++) cdf[i]! /= sum;
  return cdf;
}

function pickZipf(cdf: Float64Array, u: number): number {
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cdf[mid]! < u) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

type Rng = () => number;

function exponential(rng: Rng, mean: number): number {
  return -Math.log(1 - rng()) * mean;
}

function normal(rng: Rng): number {
  return Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}

/** Gamma(shape, 1) by Marsaglia and Tsang (shape ≥ 1 here). */
function gamma(rng: Rng, shape: number): number {
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normal(rng);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}
