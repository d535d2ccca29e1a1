import { describe, expect, it } from 'vitest';
import { HELD_OUT_PERCENT, isHeldOut, judgeCandidate, MIN_HELD_OUT, splitHeldOut, type Comparison } from './judge.ts';

const compare = (n: number, live: [number, number], candidate: [number, number]): Comparison => ({
  n, live: { accuracy: live[0], macro_f1: live[1] }, candidate: { accuracy: candidate[0], macro_f1: candidate[1] },
});
const enough = MIN_HELD_OUT;

describe('the held-out split', () => {
  it('holds out about one in five, the same keys every time, whatever else is in the set', () => {
    const keys = Array.from({ length: 5000 }, (_, i) => String(i + 1));
    const { train, heldOut } = splitHeldOut(keys, (k) => k);
    expect(train.length + heldOut.length).toBe(keys.length);
    expect(heldOut.length / keys.length).toBeCloseTo(HELD_OUT_PERCENT / 100, 1);
    // A key's side depends on the key alone: a smaller set keeps each key where it was.
    const some = splitHeldOut(keys.slice(0, 50), (k) => k);
    expect(some.heldOut).toEqual(heldOut.filter((k) => Number(k) <= 50));
    expect(keys.every((k) => isHeldOut(k) === heldOut.includes(k))).toBe(true);
  });
});

describe('judging a candidate', () => {
  const judge = (heldOut: Comparison, dev: Comparison | null = null, force = false) =>
    judgeCandidate({ liveModel: 'ru-v1', heldOut, dev: dev && { ...dev, file: 'dev-ru.jsonl' }, force });

  it('accepts a candidate no worse on enough held-out corrections', () => {
    expect(judge(compare(enough, [0.5, 0.4], [0.9, 0.8]))).toEqual({ accept: true, judgedOn: 'held_out_corrections', forced: false });
    expect(judge(compare(enough, [0.5, 0.4], [0.5, 0.4]))).toMatchObject({ accept: true });
  });

  it('refuses one worse on accuracy or on macro-F1, and --force does not change that', () => {
    const lowerAccuracy = judge(compare(enough, [0.8, 0.5], [0.6, 0.7]), null, true);
    expect(lowerAccuracy).toEqual({
      accept: false,
      reason: `worse than ru-v1 on the held-out corrections (${enough}): macro-F1 0.7 vs 0.5, accuracy 0.6 vs 0.8; ru-v1 stays`,
    });
    expect(judge(compare(enough, [0.8, 0.7], [0.9, 0.6]))).toMatchObject({ accept: false });
  });

  it('refuses one worse on the dev file given, even when the held-out corrections like it', () => {
    expect(judge(compare(enough, [0.5, 0.5], [0.9, 0.9]), compare(100, [0.8, 0.75], [0.7, 0.7]))).toMatchObject({
      accept: false, reason: expect.stringMatching(/^worse than ru-v1 on dev-ru.jsonl \(100\)/),
    });
  });

  it('with too few held out: judges on the dev file when given, else keeps the live model unless --force', () => {
    const few = compare(enough - 1, [0, 0], [1, 1]);
    expect(judge(few, compare(100, [0.7, 0.6], [0.7, 0.65]))).toEqual({ accept: true, judgedOn: 'dev_file', forced: false });
    expect(judge(few)).toEqual({
      accept: false,
      reason: `${enough - 1} held-out corrections, ${enough} needed to judge the candidate against ru-v1: ru-v1 stays. ` +
        "Correct more of this language's mentions, give --dev FILE.jsonl, or pass --force to save it unjudged",
    });
    expect(judge(few, null, true)).toMatchObject({ accept: true, judgedOn: null, forced: true, reason: expect.stringMatching(/saved anyway \(--force\)$/) });
    // Too few held out neither accepts nor refuses: a loss on them does not stop --force.
    expect(judge(compare(2, [1, 1], [0, 0]), null, true)).toMatchObject({ accept: true, forced: true });
  });
});
