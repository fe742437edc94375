// Measures and filters weak (query, source document) pairs whose query merely copies its document. A generated
// query that is a verbatim span of the passage is trivially retrievable and teaches the dense retriever lexical
// matching only, so pairs are scored by token overlap and by the longest contiguous span shared with the document.
// A second filter keeps a pair only if a dense encoder ranks its source document in the top k for its own query
// (round-trip consistency, the dense counterpart of bm25-weak-filter.ts).
import { splitWords } from '../bm25/text-analysis.ts';
import { topKDense, type EmbeddingMatrix } from '../retrieval/dense-search.ts';

/** How much of a query is taken from its document. */
export interface QueryCopyStats {
  /** Query tokens (lowercased words, stopwords kept, not stemmed). */
  readonly tokens: number;
  /** Query tokens (counted with repetition) that occur anywhere in the document. */
  readonly inDocument: number;
  /** inDocument / tokens (0 for an empty query). */
  readonly overlap: number;
  /** Length in tokens of the longest run of consecutive query tokens that also occurs consecutively in the document. */
  readonly longestSpan: number;
  /** longestSpan / tokens (0 for an empty query). */
  readonly spanShare: number;
  /** The whole query, at least 3 tokens long, is one contiguous span of the document. */
  readonly isSpanCopy: boolean;
}

/** Mean copy measures over a set of pairs. */
export interface CopyRateSummary {
  readonly pairs: number;
  readonly meanOverlap: number;
  readonly meanSpanShare: number;
  /** Share of pairs whose query is a span copy of its document. */
  readonly spanCopyRate: number;
}

/** Thresholds of filterCopiedQueries; a pair is kept iff both measures are at most these. */
export interface CopyFilterOptions {
  readonly maxOverlap: number;
  readonly maxSpanShare: number;
}

/** The pairs a filter kept, in input order, with how many it dropped. */
export interface PairFilterResult<T> {
  readonly kept: T[];
  readonly dropped: number;
  /** kept / total (0 when there are no pairs). */
  readonly retention: number;
}

/** Shortest query counted as a span copy: one or two words shared with the passage are common in any real query. */
const MIN_SPAN_COPY_TOKENS = 3;

// splitWords (lowercase, split on every non-letter/digit) rather than analyze: stopwords and inflections are part of
// what a copied span copies, and stemming would count a reworded query ("resistances" for "resistance") as copied.
const copyTokens = (text: string): string[] => splitWords(text);

function statsOfTokens(query: readonly string[], document: readonly string[], documentWords: ReadonlySet<string>): QueryCopyStats {
  const tokens = query.length;
  let inDocument = 0;
  for (const word of query) if (documentWords.has(word)) inDocument++;
  // Longest common substring over the two token sequences; one DP row suffices, walked right to left so that
  // row[j] still holds the previous query token's value when row[j + 1] is computed.
  const row = new Int32Array(document.length + 1);
  let longestSpan = 0;
  for (let i = 0; i < tokens; i++) {
    const word = query[i];
    for (let j = document.length - 1; j >= 0; j--) {
      if (document[j] === word) {
        const run = row[j]! + 1;
        row[j + 1] = run;
        if (run > longestSpan) longestSpan = run;
      } else {
        row[j + 1] = 0;
      }
    }
  }
  const spanShare = tokens === 0 ? 0 : longestSpan / tokens;
  return {
    tokens,
    inDocument,
    overlap: tokens === 0 ? 0 : inDocument / tokens,
    longestSpan,
    spanShare,
    isSpanCopy: tokens >= MIN_SPAN_COPY_TOKENS && longestSpan === tokens,
  };
}

/** Token overlap and longest shared span between a query and its source document. */
export function queryCopyStats(query: string, document: string): QueryCopyStats {
  const documentTokens = copyTokens(document);
  return statsOfTokens(copyTokens(query), documentTokens, new Set(documentTokens));
}

/**
 * Mean overlap, mean span share and span-copy rate over (query, document) pairs: reported for the weak data and,
 * as a reference, for labeled queries against their judged documents. All zeros for no pairs.
 */
export function copyRateSummary(pairs: Iterable<{ readonly query: string; readonly document: string }>): CopyRateSummary {
  let count = 0;
  let overlapSum = 0;
  let spanShareSum = 0;
  let spanCopies = 0;
  for (const { query, document } of pairs) {
    const stats = queryCopyStats(query, document);
    count++;
    overlapSum += stats.overlap;
    spanShareSum += stats.spanShare;
    if (stats.isSpanCopy) spanCopies++;
  }
  if (count === 0) return { pairs: 0, meanOverlap: 0, meanSpanShare: 0, spanCopyRate: 0 };
  return { pairs: count, meanOverlap: overlapSum / count, meanSpanShare: spanShareSum / count, spanCopyRate: spanCopies / count };
}

function checkShare(name: string, value: unknown): void {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw new RangeError(`copy filter ${name} must be a number in [0, 1], got ${String(value)}`);
  }
}

const filterResult = <T>(kept: T[], total: number): PairFilterResult<T> => ({
  kept,
  dropped: total - kept.length,
  retention: total === 0 ? 0 : kept.length / total,
});

/**
 * Keeps a pair iff its query's overlap with its document is at most `maxOverlap` and its span share at most
 * `maxSpanShare`. `documentText` returns the text of a source document (title and text, as indexed).
 */
export function filterCopiedQueries<T extends { readonly query: string; readonly docId: string }>(
  pairs: readonly T[],
  documentText: (docId: string) => string,
  options: CopyFilterOptions,
): PairFilterResult<T> {
  checkShare('maxOverlap', options.maxOverlap);
  checkShare('maxSpanShare', options.maxSpanShare);
  const kept: T[] = [];
  // Weak pairs come grouped by document (several queries per passage), so the last document's tokens are reused.
  let lastDocId: string | undefined;
  let documentTokens: string[] = [];
  let documentWords = new Set<string>();
  for (const pair of pairs) {
    if (pair.docId !== lastDocId) {
      documentTokens = copyTokens(documentText(pair.docId));
      documentWords = new Set(documentTokens);
      lastDocId = pair.docId;
    }
    const stats = statsOfTokens(copyTokens(pair.query), documentTokens, documentWords);
    if (stats.overlap <= options.maxOverlap && stats.spanShare <= options.maxSpanShare) kept.push(pair);
  }
  return filterResult(kept, pairs.length);
}

/**
 * Dense round-trip consistency: keeps pair i iff `ranks[i]`, the 1-based rank of its source document when its
 * query is searched with the dense encoder (null: not within the searched depth), is at most `topK`.
 */
export function filterByDenseRoundTrip<T extends { readonly docId: string }>(
  pairs: readonly T[],
  ranks: readonly (number | null)[],
  topK: number,
): PairFilterResult<T> {
  if (ranks.length !== pairs.length) throw new RangeError(`dense round-trip filter got ${ranks.length} ranks for ${pairs.length} pairs`);
  if (!Number.isInteger(topK) || topK < 1) throw new RangeError(`dense round-trip filter topK must be a positive integer, got ${topK}`);
  const kept: T[] = [];
  for (let i = 0; i < pairs.length; i++) {
    const rank = ranks[i]!;
    if (rank !== null && !(Number.isInteger(rank) && rank >= 1)) {
      throw new RangeError(`dense round-trip filter: rank of pair ${i} must be a positive integer or null, got ${rank}`);
    }
    if (rank !== null && rank <= topK) kept.push(pairs[i]!);
  }
  return filterResult(kept, pairs.length);
}

/**
 * For each query (row i of `queryEmbeddings`, row-major with the corpus's dimension), the 1-based rank of its source
 * document `docIds[i]` among the top `depth` dense hits over `corpus`, or null when it is not among them.
 */
export function sourceDocumentRanks(
  queryEmbeddings: Float32Array,
  docIds: readonly string[],
  corpus: EmbeddingMatrix,
  depth: number,
): (number | null)[] {
  if (!Number.isInteger(depth) || depth < 1) throw new RangeError(`source document rank depth must be a positive integer, got ${depth}`);
  const { dim } = corpus;
  if (queryEmbeddings.length !== docIds.length * dim) {
    throw new Error(`query embeddings hold ${queryEmbeddings.length} floats, expected ${docIds.length} x ${dim}`);
  }
  // An unknown source document would silently read as "not retrieved"; it means pairs and corpus do not match.
  const corpusIds = new Set(corpus.ids);
  const ranks: (number | null)[] = [];
  for (let i = 0; i < docIds.length; i++) {
    const docId = docIds[i]!;
    if (!corpusIds.has(docId)) throw new Error(`source document ${docId} of query ${i} is not in the embedded corpus`);
    const hits = topKDense(queryEmbeddings.subarray(i * dim, (i + 1) * dim), corpus, depth);
    const position = hits.findIndex((hit) => hit.id === docId);
    ranks.push(position < 0 ? null : position + 1);
  }
  return ranks;
}
