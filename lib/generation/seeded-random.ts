// A small seeded pseudo-random generator (mulberry32: 32-bit state, full period 2^32): sampling must be
// reproducible from a seed in the config, never from the global Math.random.

export type RandomSource = () => number;

/** Uniform numbers in [0, 1) from a 32-bit seed. */
export function createSeededRandom(seed: number): RandomSource {
  if (!Number.isInteger(seed)) throw new Error(`seed must be an integer, got ${seed}`);
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
