// Hard negatives for the retriever's contrastive loss, as the sentence-transformers recipe mines them: for every
// training query, documents BM25 ranks high for it that are not among its positives. Each pair gets its negatives
// once, seeded by the query and the seed, from the query's BM25 top `depth`; a batch then adds them after the
// positives (`batchNegatives`), never one that is a positive of any query in the batch.
import type { SearchHit } from '../bm25/bm25-types.ts';
import { createPrng, shuffled } from '../random/prng.ts';
import type { TrainingPair } from './retriever-training.ts';

export interface NegativeMiningOptions {
  /** Negatives per pair (fewer when the query's BM25 list holds fewer non-positives). */
  readonly perPair: number;
  /** BM25 depth the negatives are drawn from. */
  readonly depth: number;
  readonly seed: number;
}

/** Every document a query key is paired with: its positives, never to be used as its negatives. */
export function positivesByQuery(pairs: readonly TrainingPair[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const p of pairs) {
    let docs = out.get(p.queryId);
    if (!docs) out.set(p.queryId, (docs = new Set()));
    docs.add(p.docId);
  }
  return out;
}

/**
 * Mined negatives of every query key of `pairs`: `perPair` documents drawn without replacement from the query's BM25
 * top `depth`, positives excluded, in BM25 rank order. The draw for a query depends only on its key, its BM25 list
 * and the seed, so the same query gets the same negatives in every run.
 */
export function mineBm25Negatives(
  search: (query: string, k: number) => readonly SearchHit[],
  pairs: readonly TrainingPair[],
  texts: ReadonlyMap<string, string>,
  options: NegativeMiningOptions,
): Map<string, string[]> {
  if (!Number.isInteger(options.perPair) || options.perPair < 0) throw new RangeError(`hard negatives per pair must be a non-negative integer, got ${options.perPair}`);
  if (!Number.isInteger(options.depth) || options.depth < 1) throw new RangeError(`hard negative depth must be a positive integer, got ${options.depth}`);
  const positives = positivesByQuery(pairs);
  const out = new Map<string, string[]>();
  if (options.perPair === 0) return out;
  for (const [queryKey, own] of positives) {
    const text = texts.get(queryKey);
    if (text === undefined) throw new Error(`hard negatives: query key "${queryKey}" has no text`);
    const candidates = search(text, options.depth).map((h, rank) => ({ id: h.id, rank })).filter((h) => !own.has(h.id));
    const drawn = shuffled(candidates, createPrng(options.seed, `hard-negatives/${queryKey}`)).slice(0, options.perPair);
    out.set(queryKey, drawn.sort((a, b) => a.rank - b.rank).map((h) => h.id));
  }
  return out;
}

/**
 * The hard negatives a batch adds after its positives: each pair's mined negatives in batch order, without
 * repeats, leaving out every document that is a positive of any query in the batch (it would be a false negative
 * for that query) or a positive document of the batch itself.
 */
export function batchNegatives(batch: readonly TrainingPair[], negatives: ReadonlyMap<string, readonly string[]>, positives: ReadonlyMap<string, ReadonlySet<string>>): string[] {
  const excluded = new Set<string>();
  for (const p of batch) {
    excluded.add(p.docId);
    for (const d of positives.get(p.queryId) ?? []) excluded.add(d);
  }
  const out: string[] = [];
  for (const p of batch) {
    for (const d of negatives.get(p.queryId) ?? []) {
      if (excluded.has(d)) continue;
      excluded.add(d);
      out.push(d);
    }
  }
  return out;
}

/** Mined negatives as JSONL rows {queryKey, negatives}, sorted by key: the artifact experiments re-train from. */
export function negativesJsonl(negatives: ReadonlyMap<string, readonly string[]>): string {
  return [...negatives.keys()]
    .sort()
    .map((k) => `${JSON.stringify({ queryKey: k, negatives: negatives.get(k) })}\n`)
    .join('');
}
