// Exact top-k BM25 over document-sorted posting lists with precomputed impacts, by block-max MaxScore evaluated
// window by window (the scheme of Lucene's MaxScoreBulkScorer; MaxScore after Turtle & Flood 1995, block-max
// bounds after Ding & Suel 2011):
//  - The document range is walked in windows of `window` documents. In each window every query term is bounded
//    by its weight times the largest impact of its blocks that overlap the window.
//  - Terms sorted by that bound: the longest prefix whose bounds sum below the current k-th best score (the
//    threshold) is "non-essential": a document found only in those lists cannot enter the top k.
//  - The essential lists are scanned into a dense window accumulator (one multiply-add per posting) and mark
//    their documents as candidates. Non-essential lists are either read through the window into a second
//    accumulator (when they are short there relative to the candidates) or probed per candidate by galloping
//    search, best bound first, stopping as soon as the candidate cannot reach the threshold.
//  - Windows start at the next document of a term that is essential under the global bounds, so stretches where
//    only low-weight terms occur are skipped without being read.
// A survivor's final score is summed over the terms in query-slot order, the very order the exhaustive scorer
// uses, so the pruned ranking equals the exhaustive one bit for bit (scores and ties alike). Bounds are compared
// with a relative slack far larger than floating-point rounding, so rounding can never prune a document that
// belongs in the top k.
import type { PostingBlocks } from './posting-blocks.ts';
import { TopK } from './top-k.ts';

/** Documents per window: the accumulators stay in the L1/L2 cache. (1024-16384 measured within noise at 1M.) */
const DEFAULT_WINDOW = 4096;
/**
 * A non-essential list is read through a window when it has at most this many postings there per candidate:
 * reading a posting sequentially costs a small fraction of a galloping probe. Measured at 1M synthetic documents:
 * 4-16 alike, 0 (always probe) 1.7x slower on SciFact-like queries, always reading 5x slower on Zipf queries.
 */
const DENSE_RATIO = 8;
/** A bound must fall below threshold x SLACK to prune: covers rounding in sums of float64 bounds. */
const SLACK = 1 - 1e-9;

interface ImpactPostings {
  readonly documentCount: number;
  /** Length terms + 1: term t's postings are docs[postingStart[t] .. postingStart[t+1]), documents ascending. */
  readonly postingStart: Uint32Array;
  readonly docs: Uint32Array;
  /** Per posting, its BM25 term-frequency weight; a document's score is the sum of idf x impact over query terms. */
  readonly impacts: Float32Array;
  /** Per term, its largest impact. */
  readonly maxImpact: Float32Array;
  readonly blocks: PostingBlocks;
}

/** One distinct query term and its weight (idf, times the number of times it occurs in the query). */
export interface QueryTerm {
  readonly term: number;
  readonly weight: number;
}

interface ScoredDoc {
  readonly doc: number;
  readonly score: number;
}

/** Counters of one search, for benchmarks and tests of pruning. */
export interface SearchStats {
  windows: number;
  scannedPostings: number;
  candidates: number;
  probes: number;
  scored: number;
}

/** First position in [from, end) whose document is >= doc (exponential then binary search); end if none. */
function gallopTo(docs: Uint32Array, from: number, end: number, doc: number): number {
  if (from >= end || docs[from]! >= doc) return from;
  let step = 1;
  let lo = from;
  let hi = from + 1;
  while (hi < end && docs[hi]! < doc) {
    lo = hi;
    step *= 2;
    hi = from + step;
  }
  if (hi > end) hi = end;
  // docs[lo] < doc and (hi == end or docs[hi] >= doc)
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (docs[mid]! < doc) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** Set bits of a 32-bit integer. */
function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/**
 * Holds the scratch buffers one search needs, reused across searches (a search allocates only per-term arrays).
 * Not re-entrant, which synchronous JavaScript guarantees.
 */
export class MaxScoreSearcher {
  private readonly window: number;
  /** Partial scores from the essential lists, per window document. */
  private readonly acc: Float64Array;
  /** Contributions of the non-essential lists read through the window. */
  private readonly extra: Float64Array;
  /** One bit per window document touched by an essential list: read back in document order without sorting. */
  private readonly touched: Int32Array;
  private exhaustiveScores: Float64Array | null = null;
  private exhaustiveTouched: Uint32Array | null = null;

  constructor(
    private readonly lists: ImpactPostings,
    private readonly docIds: readonly string[],
    options: { window?: number } = {},
  ) {
    const window = options.window ?? DEFAULT_WINDOW;
    if (!Number.isInteger(window) || window < 32 || window % 32 !== 0) throw new RangeError(`window must be a positive multiple of 32, got ${window}`);
    this.window = window;
    this.acc = new Float64Array(window);
    this.extra = new Float64Array(window);
    this.touched = new Int32Array(window / 32);
  }

  /** The exact top k for `terms` (distinct, in the order their contributions are summed), best first. */
  search(terms: readonly QueryTerm[], k: number, stats?: SearchStats): ScoredDoc[] {
    const m = terms.length;
    if (k === 0 || m === 0) return [];
    const { documentCount: n, postingStart, docs, impacts, maxImpact } = this.lists;
    const { blockStart, blockLast, blockMax } = this.lists.blocks;
    const { acc, extra, touched, window } = this;

    const weight = new Float64Array(m);
    const globalBound = new Float64Array(m);
    const scan = new Float64Array(m); // next posting to scan (positions may exceed 2^31)
    const probe = new Float64Array(m); // next posting to probe (moves forward with the probed documents)
    const end = new Float64Array(m);
    const block = new Float64Array(m); // first block that may overlap the current window
    const blockEnd = new Float64Array(m);
    const windowBound = new Float64Array(m);
    const order = new Int32Array(m); // slots by window bound, ascending
    const probed = new Int32Array(m); // non-essential slots probed per candidate, highest bound first
    for (let i = 0; i < m; i++) {
      const { term, weight: w } = terms[i]!;
      weight[i] = w;
      globalBound[i] = w * maxImpact[term]!;
      scan[i] = probe[i] = postingStart[term]!;
      end[i] = postingStart[term + 1]!;
      block[i] = blockStart[term]!;
      blockEnd[i] = blockStart[term + 1]!;
    }
    const byGlobalBound = Array.from({ length: m }, (_, i) => i).sort((a, b) => globalBound[a]! - globalBound[b]!);

    const top = new TopK(k, this.docIds);
    let full = false;
    let cut = 0; // the k-th best score x SLACK once the heap is full: an upper bound below it prunes
    let base = 0;
    for (;;) {
      // The next window starts at the first unread document of a term that is essential under global bounds.
      let next = n;
      let sum = 0;
      for (const i of byGlobalBound) {
        if (full && sum + globalBound[i]! < cut) {
          sum += globalBound[i]!;
          continue;
        }
        const p = gallopTo(docs, scan[i]!, end[i]!, base);
        scan[i] = p;
        if (p < end[i]! && docs[p]! < next) next = docs[p]!;
      }
      if (next >= n) break;
      base = next;
      const windowEnd = Math.min(base + window, n);
      if (stats) stats.windows++;

      for (let i = 0; i < m; i++) {
        let b = block[i]!;
        const be = blockEnd[i]!;
        while (b < be && blockLast[b]! < base) b++;
        block[i] = b;
        let max = 0;
        for (; b < be; b++) {
          if (blockMax[b]! > max) max = blockMax[b]!;
          if (blockLast[b]! >= windowEnd) break;
        }
        windowBound[i] = weight[i]! * max;
        // Insertion sort by window bound: queries have few terms.
        let r = i;
        while (r > 0 && windowBound[order[r - 1]!]! > windowBound[i]!) {
          order[r] = order[r - 1]!;
          r--;
        }
        order[r] = i;
      }
      let nonEssential = 0;
      let nonEssentialBound = 0;
      if (full) {
        while (nonEssential < m && nonEssentialBound + windowBound[order[nonEssential]!]! < cut) {
          nonEssentialBound += windowBound[order[nonEssential]!]!;
          nonEssential++;
        }
      }

      for (let r = nonEssential; r < m; r++) {
        const i = order[r]!;
        const w = weight[i]!;
        const e = end[i]!;
        let p = gallopTo(docs, scan[i]!, e, base);
        const from = p;
        for (; p < e; p++) {
          const d = docs[p]!;
          if (d >= windowEnd) break;
          const j = d - base;
          touched[j >>> 5]! |= 1 << (j & 31);
          acc[j]! += w * impacts[p]!;
        }
        if (stats) stats.scannedPostings += p - from;
        scan[i] = p;
      }
      const words = (windowEnd - base + 31) >>> 5;
      let candidates = 0;
      for (let wi = 0; wi < words; wi++) candidates += popcount(touched[wi]!);

      // A non-essential list is either read through the window into `extra` (cheap when it has few postings
      // here per candidate: sequential reads) or probed per candidate by galloping search (cheap when candidates
      // are sparse). `extra[j] + acc[j]` is then an exact partial score, and the probed lists add their bounds.
      let probedCount = 0;
      let probedBound = 0;
      let usedExtra = false;
      for (let r = nonEssential - 1; r >= 0; r--) {
        const i = order[r]!;
        const e = end[i]!;
        const from = gallopTo(docs, scan[i]!, e, base);
        const to = gallopTo(docs, from, e, windowEnd);
        scan[i] = from;
        if (to - from <= DENSE_RATIO * candidates) {
          const w = weight[i]!;
          for (let p = from; p < to; p++) extra[docs[p]! - base]! += w * impacts[p]!;
          if (stats) stats.scannedPostings += to - from;
          scan[i] = to;
          usedExtra = true;
        } else {
          probed[probedCount++] = i;
          probedBound += windowBound[i]!;
        }
      }

      // The bitmap yields the window's candidates in document order, so probe cursors only move forward.
      for (let wi = 0; wi < words; wi++) {
        let bits = touched[wi]!;
        if (bits === 0) continue;
        touched[wi] = 0;
        while (bits !== 0) {
          const low = bits & -bits;
          bits ^= low;
          const j = (wi << 5) | (31 - Math.clz32(low));
          if (stats) stats.candidates++;
          let upper = acc[j]! + extra[j]! + probedBound;
          acc[j] = 0;
          if (full && upper < cut) continue;
          const d = base + j;
          let pruned = false;
          for (let q = 0; q < probedCount; q++) {
            const i = probed[q]!;
            if (stats) stats.probes++;
            const p = gallopTo(docs, probe[i]!, end[i]!, d);
            probe[i] = p;
            upper -= windowBound[i]!;
            if (p < end[i]! && docs[p] === d) upper += weight[i]! * impacts[p]!;
            if (full && upper < cut) {
              pruned = true;
              break;
            }
          }
          if (pruned) continue;
          // Summed in slot order, as the exhaustive scorer does.
          let score = 0;
          for (let i = 0; i < m; i++) {
            const p = gallopTo(docs, probe[i]!, end[i]!, d);
            probe[i] = p;
            if (p < end[i]! && docs[p] === d) score += weight[i]! * impacts[p]!;
          }
          if (stats) stats.scored++;
          top.offer(d, score);
          if (top.isFull()) {
            full = true;
            cut = top.minScore() * SLACK;
          }
        }
      }
      if (usedExtra) extra.fill(0, 0, windowEnd - base);
      base = windowEnd;
    }
    return top.results();
  }

  /** Scores every posting of every term (term by term, in slot order): the reference the pruned search must equal. */
  exhaustive(terms: readonly QueryTerm[], k: number): ScoredDoc[] {
    if (k === 0 || terms.length === 0) return [];
    const { documentCount: n, postingStart, docs, impacts } = this.lists;
    const scores = (this.exhaustiveScores ??= new Float64Array(n));
    const touched = (this.exhaustiveTouched ??= new Uint32Array(n));
    let count = 0;
    for (const { term, weight } of terms) {
      const e = postingStart[term + 1]!;
      for (let p = postingStart[term]!; p < e; p++) {
        const d = docs[p]!;
        if (scores[d] === 0) touched[count++] = d;
        scores[d]! += weight * impacts[p]!;
      }
    }
    const top = new TopK(k, this.docIds);
    for (let c = 0; c < count; c++) {
      const d = touched[c]!;
      top.offer(d, scores[d]!);
      scores[d] = 0;
    }
    return top.results();
  }
}
