// The seeded pseudo-random generators: randomness in library code comes only from here, passed in explicitly
// and reproducible from a seed in the config; Math.random is never used. Both generators use 32-bit integer
// arithmetic only (Math.imul and unsigned shifts), so their output is identical on every machine.
//
// There are two algorithms because tests, benchmarks and stored artifacts pin the exact sequences each produces:
// - `createPrng`: xoshiro128** (Blackman and Vigna, 2018), its state filled from the seed by the SplitMix32
//   sequence (golden-ratio increment + MurmurHash3's 32-bit finaliser), with stream labels for independent
//   sequences from one seed. Data splits, shuffles, samples, significance tests and reports use it.
// - `Mulberry32`: mulberry32 (32-bit state, period 2^32). Token sampling and the random weights of tiny models in
//   tests and benchmarks use it.

/** Uniform numbers in [0, 1). */
export type RandomSource = () => number;

export interface Prng {
  /** Uniform in [0, 1) with 32 bits of resolution. Safe to pass detached (`prng.next`). */
  readonly next: RandomSource;
  /** Uniform unsigned 32-bit integer. */
  readonly nextUint32: () => number;
  /** Uniform integer in [0, n) for 1 <= n <= 2^32 (bias below 2^-32 * n, negligible for our sizes). */
  readonly int: (n: number) => number;
}

const fmix32 = (h: number): number => {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
};

const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;

/** Folds any safe integer seed (negative or above 2^32) and an optional stream label into 32 bits. */
function seedToUint32(seed: number, stream: string): number {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${seed}`);
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 2 ** 32) >>> 0;
  let h = fmix32(lo ^ fmix32(hi ^ 0x9e3779b9));
  for (let i = 0; i < stream.length; i++) h = fmix32(h ^ Math.imul(stream.charCodeAt(i) + 1, 0x27d4eb2f));
  return h;
}

/**
 * A xoshiro128** generator for `seed`; a `stream` label gives an independent sequence from the same seed, so that
 * e.g. the unlabeled-document sample does not change when the number of training pairs does.
 */
export function createPrng(seed: number, stream = ''): Prng {
  let sm = seedToUint32(seed, stream);
  const splitmix = (): number => {
    sm = (sm + 0x9e3779b9) >>> 0;
    return fmix32(sm);
  };
  let s0 = splitmix();
  let s1 = splitmix();
  let s2 = splitmix();
  let s3 = splitmix();
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1; // the all-zero state is a fixed point
  const nextUint32 = (): number => {
    const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    s2 = (s2 ^ s0) >>> 0;
    s3 = (s3 ^ s1) >>> 0;
    s1 = (s1 ^ s2) >>> 0;
    s0 = (s0 ^ s3) >>> 0;
    s2 = (s2 ^ t) >>> 0;
    s3 = rotl(s3, 11);
    return result;
  };
  const next = (): number => nextUint32() / 4294967296;
  const int = (n: number): number => {
    if (!Number.isInteger(n) || n < 1 || n > 4294967296) throw new RangeError(`int(n) needs an integer 1 <= n <= 2^32, got ${n}`);
    return Math.floor(next() * n);
  };
  return { next, nextUint32, int };
}

/** A mulberry32 generator for a 32-bit integer seed (other integers are taken modulo 2^32). */
export class Mulberry32 implements Prng {
  private state: number;

  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new Error(`seed must be an integer, got ${seed}`);
    this.state = seed >>> 0;
  }

  readonly nextUint32 = (): number => {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };

  readonly next = (): number => this.nextUint32() / 4294967296;

  /** Integer in [0, n); unlike `createPrng`'s, `n` is not checked. */
  readonly int = (n: number): number => Math.floor(this.next() * n);

  /** Uniform in [-scale, scale). */
  uniform(scale: number): number {
    return (this.next() * 2 - 1) * scale;
  }

  /** `count` values uniform in [-scale, scale). */
  floats(count: number, scale: number): Float32Array {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = this.uniform(scale);
    return out;
  }
}

/** Fisher-Yates shuffle of a copy. */
export function shuffled<T>(items: readonly T[], prng: Prng): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = prng.int(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** A uniformly random permutation of 0..n-1: `shuffled` of [0, 1, ..., n-1]. */
export function shuffledIndices(n: number, prng: Prng): number[] {
  return shuffled(Array.from({ length: n }, (_, i) => i), prng);
}

/** `count` distinct items drawn uniformly without replacement (a partial Fisher-Yates), in draw order. */
export function sampleWithoutReplacement<T>(items: readonly T[], count: number, prng: Prng): T[] {
  if (count > items.length) throw new RangeError(`cannot draw ${count} items from ${items.length}`);
  const pool = [...items];
  for (let i = 0; i < count; i++) {
    const j = i + prng.int(pool.length - i);
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, count);
}
