// The one interface both BM25 backends implement.

const Bm25Backends = ['compact', 'lunr'] as const;
export type Bm25Backend = (typeof Bm25Backends)[number];

export interface Bm25Params {
  /** Term-frequency saturation; Anserini's BEIR baselines use 0.9. */
  readonly k1: number;
  /** Length normalisation; Anserini's BEIR baselines use 0.4. */
  readonly b: number;
}

export const ANSERINI_BM25: Bm25Params = { k1: 0.9, b: 0.4 };

export interface Bm25Document {
  readonly _id: string;
  readonly title?: string;
  readonly text: string;
}

export interface SearchHit {
  readonly id: string;
  readonly score: number;
}

export interface Bm25Index {
  readonly backend: Bm25Backend;
  readonly params: Bm25Params;
  readonly documentCount: number;
  /**
   * The k best documents for `query`, best first; equal scores are ordered by document id descending, as
   * trec_eval orders them. Documents sharing no term with the query are never returned.
   */
  search(query: string, k: number): SearchHit[];
  /** Self-contained bytes (little-endian) that `deserializeBm25Index` loads on any machine. */
  serialize(): Uint8Array;
}

export type DocumentSource = Iterable<Bm25Document> | AsyncIterable<Bm25Document>;
