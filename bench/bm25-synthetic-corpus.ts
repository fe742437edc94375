// A seeded synthetic corpus for BM25 benchmarks: a vocabulary of pseudo-words whose frequencies follow Zipf's law
// (exponent 1.07, close to English), documents of 60-180 words (mean 120, between MS MARCO passages and SciFact
// abstracts). Queries draw 5-12 words from the same distribution, so they contain common words more often than
// real queries do: a pessimistic case for term-at-a-time scoring.
import { createPrng, type Prng } from '../lib/splits/prng.ts';
import type { Bm25Document } from '../lib/bm25/index.ts';

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

export class ZipfVocabulary {
  readonly words: string[];
  private readonly cdf: Float64Array;

  constructor(size: number, exponent: number, prng: Prng) {
    this.words = Array.from({ length: size }, () => {
      const length = 3 + prng.int(8);
      let w = '';
      for (let i = 0; i < length; i++) w += LETTERS[prng.int(26)]!;
      return w;
    });
    this.cdf = new Float64Array(size);
    let total = 0;
    for (let r = 0; r < size; r++) this.cdf[r] = total += 1 / (r + 1) ** exponent;
    for (let r = 0; r < size; r++) this.cdf[r]! /= total;
  }

  sample(prng: Prng): string {
    const u = prng.next();
    let lo = 0;
    let hi = this.cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return this.words[lo]!;
  }

  text(prng: Prng, words: number): string {
    const out: string[] = new Array<string>(words);
    for (let i = 0; i < words; i++) out[i] = this.sample(prng);
    return out.join(' ');
  }
}

export const syntheticVocabulary = (seed: number): ZipfVocabulary => new ZipfVocabulary(200_000, 1.07, createPrng(seed, 'bench/vocabulary'));

/** Documents d0..d{count-1}, generated lazily so the corpus itself never sits in memory. */
export function* syntheticDocuments(vocabulary: ZipfVocabulary, count: number, seed: number, onDocument?: (i: number) => void): Generator<Bm25Document> {
  const prng = createPrng(seed, 'bench/documents');
  for (let i = 0; i < count; i++) {
    onDocument?.(i);
    yield { _id: `d${i}`, text: vocabulary.text(prng, 60 + prng.int(121)) };
  }
}

export function syntheticQueries(vocabulary: ZipfVocabulary, count: number, seed: number): string[] {
  const prng = createPrng(seed, 'bench/queries');
  return Array.from({ length: count }, () => vocabulary.text(prng, 5 + prng.int(8)));
}
