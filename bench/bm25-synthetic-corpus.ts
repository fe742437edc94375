// A seeded synthetic corpus for BM25 benchmarks: a vocabulary of pseudo-words whose frequencies follow Zipf's law
// (exponent 1.07, close to English), documents of 60-180 words (mean 120, between MS MARCO passages and SciFact
// abstracts). Two query models:
//  - "scifact" (the realistic one): each synthetic query copies the shape of a real SciFact query. For every
//    analysed term of that query (stopwords removed, terms absent from the corpus dropped) we take its document
//    frequency as a fraction of the SciFact corpus, and pick the vocabulary word whose expected document fraction in
//    the synthetic corpus is the same. So queries keep SciFact's length (5-17 terms, mean ~9.6) and its mix of rare
//    and common terms (median document fraction ~4%, none above ~50%).
//  - "zipf" (a stress case): 5-12 words drawn from the whole Zipf distribution, so ~40% of query terms occur in
//    more than 30% of all documents, as if stopwords were kept: far more postings per query than real queries.
import { createPrng, type Prng } from '../lib/random/prng.ts';
import { analyze, documentText, type Bm25Document } from '../lib/bm25/index.ts';

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';
const MIN_WORDS = 60;
const WORD_RANGE = 121;

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

  /** The expected fraction of synthetic documents containing the word of 0-based rank `r`. */
  expectedDocumentFraction(r: number): number {
    const p = this.cdf[r]! - (r > 0 ? this.cdf[r - 1]! : 0);
    let sum = 0;
    for (let l = MIN_WORDS; l < MIN_WORDS + WORD_RANGE; l++) sum += 1 - (1 - p) ** l;
    return sum / WORD_RANGE;
  }

  /** The most frequent rank whose expected document fraction is at most `fraction` (fractions fall with rank). */
  rankForDocumentFraction(fraction: number): number {
    let lo = 0;
    let hi = this.words.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.expectedDocumentFraction(mid) > fraction) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

export const syntheticVocabulary = (seed: number): ZipfVocabulary => new ZipfVocabulary(200_000, 1.07, createPrng(seed, 'bench/vocabulary'));

/** Documents d0..d{count-1}, generated lazily so the corpus itself never sits in memory. */
export function* syntheticDocuments(vocabulary: ZipfVocabulary, count: number, seed: number, onDocument?: (i: number) => void): Generator<Bm25Document> {
  const prng = createPrng(seed, 'bench/documents');
  for (let i = 0; i < count; i++) {
    onDocument?.(i);
    yield { _id: `d${i}`, text: vocabulary.text(prng, MIN_WORDS + prng.int(WORD_RANGE)) };
  }
}

/** The stress-case model: words drawn from the whole Zipf distribution. */
export function zipfQueries(vocabulary: ZipfVocabulary, count: number, seed: number): string[] {
  const prng = createPrng(seed, 'bench/queries');
  return Array.from({ length: count }, () => vocabulary.text(prng, 5 + prng.int(8)));
}

/** Real queries reduced to their shape: per query, the document counts of its analysed terms found in the corpus. */
export interface QueryShapes {
  readonly documents: number;
  readonly shapes: readonly (readonly number[])[];
}

export async function queryShapes(corpus: AsyncIterable<Bm25Document>, queries: Iterable<string>): Promise<QueryShapes> {
  const df = new Map<string, number>();
  let documents = 0;
  for await (const doc of corpus) {
    documents++;
    for (const term of new Set(analyze(documentText(doc)))) df.set(term, (df.get(term) ?? 0) + 1);
  }
  const shapes: number[][] = [];
  for (const q of queries) {
    const counts = analyze(q).flatMap((t) => df.get(t) ?? []);
    if (counts.length > 0) shapes.push(counts);
  }
  return { documents, shapes };
}

/**
 * The realistic model: each query copies a random real query's shape. A term seen in c of N real documents maps
 * to a vocabulary word whose expected document fraction is drawn uniformly from [(c - 0.5) / N, (c + 0.5) / N],
 * so equal counts do not always give the same word. Words the text pipeline drops (a stopword) are passed over.
 */
export function shapedQueries(vocabulary: ZipfVocabulary, real: QueryShapes, count: number, seed: number): string[] {
  const prng = createPrng(seed, 'bench/shaped-queries');
  return Array.from({ length: count }, () => {
    const shape = real.shapes[prng.int(real.shapes.length)]!;
    return shape
      .map((c) => {
        let r = vocabulary.rankForDocumentFraction((c - 0.5 + prng.next()) / real.documents);
        while (analyze(vocabulary.words[r]!).length === 0) r++;
        return vocabulary.words[r]!;
      })
      .join(' ');
  });
}
