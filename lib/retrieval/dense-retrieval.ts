// Dense retrieval with an encoder: the corpus encoded into an embedding matrix, exact top-k for each query, and the
// run scored against qrels. Training (dev scores each epoch), evaluation and the benchmarks all retrieve here.
import type { RankedList } from '../beir/index.ts';
import { evaluateRun, TEST_RUN_DEPTH } from '../metrics/index.ts';
import { topKDense, type EmbeddingMatrix } from './dense-search.ts';

/**
 * Texts per encoder run. onnxruntime-node blocks the event loop for a whole run; 16 MiniLM rows of 256 tokens take
 * well under a second here, so heartbeats between runs keep flowing.
 */
export const ENCODE_BATCH = 16;

/** Texts encoded so far of `total`, after every encoder run (the caller turns it into heartbeats). */
export type EncodeProgress = (done: number, total: number) => void;

/** What retrieval needs of an encoder (a `DenseEncoder`): unit vectors of texts, row-major. */
export interface TextEmbedder {
  readonly dim: number;
  encode(texts: readonly string[], batchSize?: number, onBatch?: (done: number) => void): Promise<Float32Array>;
}

export interface QueryText {
  readonly id: string;
  readonly text: string;
}

/** The documents' vectors, in corpus order. */
export async function encodeCorpus(encoder: TextEmbedder, corpus: { readonly ids: readonly string[]; readonly texts: readonly string[] }, onEncoded: EncodeProgress): Promise<EmbeddingMatrix> {
  const data = await encoder.encode(corpus.texts, ENCODE_BATCH, (done) => onEncoded(done, corpus.texts.length));
  return { ids: corpus.ids, dim: encoder.dim, data };
}

/** Exact top-k for each query; queries without text are left out of the run (trec_eval then scores them 0). */
export async function denseRun(encoder: TextEmbedder, docs: EmbeddingMatrix, queries: readonly QueryText[], onEncoded: EncodeProgress, depth = TEST_RUN_DEPTH): Promise<RankedList[]> {
  const vectors = await encoder.encode(
    queries.map((q) => q.text),
    ENCODE_BATCH,
    (done) => onEncoded(done, queries.length),
  );
  return queries.map((q, i) => ({ queryId: q.id, hits: topKDense(vectors.subarray(i * docs.dim, (i + 1) * docs.dim), docs, depth) }));
}

/** Ranked lists as the scores evaluateRun reads. */
export const toRun = (lists: readonly RankedList[]) => new Map(lists.map((l) => [l.queryId, new Map(l.hits.map((h) => [h.id, h.score]))]));

/** The queries of `qids` that have a text, sorted by id. */
export function queriesWithText(qids: Iterable<string>, texts: ReadonlyMap<string, string>): QueryText[] {
  const out: QueryText[] = [];
  for (const id of [...qids].sort()) {
    const text = texts.get(id);
    if (text !== undefined) out.push({ id, text });
  }
  return out;
}

/**
 * `queries` (usually `queriesWithText(qrels.keys(), texts)`) retrieved from `docs` and the run evaluated against
 * `qrels` (by default on SPTAR's four metrics).
 */
export async function retrieveAndEvaluate(
  encoder: TextEmbedder,
  docs: EmbeddingMatrix,
  queries: readonly QueryText[],
  qrels: ReadonlyMap<string, ReadonlyMap<string, number>>,
  onQueriesEncoded: EncodeProgress,
  options?: Parameters<typeof evaluateRun>[2],
): Promise<{ lists: RankedList[]; evaluation: ReturnType<typeof evaluateRun> }> {
  const lists = await denseRun(encoder, docs, queries, onQueriesEncoded);
  return { lists, evaluation: evaluateRun(qrels, toRun(lists), options) };
}
