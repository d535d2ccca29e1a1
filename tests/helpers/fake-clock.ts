/** A clock for the HTTP client that sleeps by moving time on and records every wait, so tests never sleep. */
export function createFakeClock(startMs = 0) {
  let t = startMs;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => t,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      t += ms;
    },
  };
}
