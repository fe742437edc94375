// Choosing the next token from one row of logits: greedy, or seeded sampling with temperature and top-k.
import type { RandomSource } from '../random/prng.ts';

export type TokenSampler = (logits: Float32Array) => number;

/** Index of the largest logit; ties go to the lowest id so results do not depend on scan order. */
export function argmax(logits: Float32Array): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i] ?? -Infinity;
    if (v > bestValue) {
      bestValue = v;
      best = i;
    }
  }
  return best;
}

export const greedySampler: TokenSampler = argmax;

interface SamplingOptions {
  /** > 0; lower is sharper. */
  readonly temperature: number;
  /** Keep only the k most likely tokens (0 or undefined: all). */
  readonly topK?: number;
  readonly random: RandomSource;
}

/** Ids of the k largest logits, largest first (ties: lower id first). */
export function topKIndices(logits: Float32Array, k: number): number[] {
  const ids = Array.from({ length: logits.length }, (_, i) => i);
  ids.sort((a, b) => (logits[b] ?? 0) - (logits[a] ?? 0) || a - b);
  return ids.slice(0, Math.min(k, logits.length));
}

/** Probabilities softmax(logits[ids] / temperature), in the order of `ids`. */
export function candidateProbabilities(logits: Float32Array, ids: readonly number[], temperature: number): number[] {
  const scaled = ids.map((i) => (logits[i] ?? -Infinity) / temperature);
  const max = Math.max(...scaled);
  const exps = scaled.map((s) => Math.exp(s - max));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / total);
}

export function createSampler(options: SamplingOptions): TokenSampler {
  const { temperature, random } = options;
  if (!(temperature > 0)) throw new Error(`temperature must be > 0 (use greedySampler for temperature 0), got ${temperature}`);
  const topK = options.topK ?? 0;
  if (!Number.isInteger(topK) || topK < 0) throw new Error(`topK must be a non-negative integer, got ${topK}`);
  return (logits) => {
    const ids = topK > 0 ? topKIndices(logits, topK) : Array.from({ length: logits.length }, (_, i) => i);
    const probs = candidateProbabilities(logits, ids, temperature);
    const u = random();
    let cumulative = 0;
    for (let j = 0; j < ids.length; j++) {
      cumulative += probs[j] ?? 0;
      if (u < cumulative) return ids[j] ?? 0;
    }
    return ids[ids.length - 1] ?? 0; // u within rounding of 1
  };
}
