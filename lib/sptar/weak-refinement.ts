// The weak filters after BM25's top-k, each measurable on its own: a copy filter (queries that mostly repeat their
// document's words, or copy one span of it) and dense round-trip consistency (the starting encoder must rank the
// source document high for its query). The stage reports what each filter kept and the copy rates of the weak
// queries against the real labeled queries'.
import type { WeakRefinementStats } from '../../common/retriever-types.ts';
import type { RetrieverConfig } from '../../common/stage-configs.ts';
import type { EmbeddingMatrix } from '../retrieval/dense-search.ts';
import type { TextEmbedder } from '../retrieval/dense-retrieval.ts';
import { ENCODE_BATCH } from '../retrieval/dense-retrieval.ts';
import { copyRateSummary, filterByDenseRoundTrip, filterCopiedQueries, sourceDocumentRanks } from '../weak-data/query-copy-filter.ts';
import type { WeakPair, WeakPairGroup } from './retriever-data.ts';

export type WeakFilterSettings = NonNullable<RetrieverConfig['weakFilter']>;

/** Whether any filter after BM25 is on. */
export const refinesWeakPairs = (f: WeakFilterSettings | undefined): f is WeakFilterSettings =>
  f !== undefined && (f.maxOverlap !== null || f.maxSpanShare !== null || f.denseTopK !== null);

export interface RefinementInputs {
  readonly groups: readonly WeakPairGroup[];
  readonly documentText: (docId: string) => string;
  /** Labeled (query, judged document) texts: the copy rate real queries have. */
  readonly labeled: readonly { readonly query: string; readonly document: string }[];
  /** The starting encoder and the corpus it encoded, for the round trip (weakFilter.denseTopK). */
  readonly dense?: { readonly encoder: TextEmbedder; readonly corpus: EmbeddingMatrix };
  readonly onProgress?: (done: number, total: number) => void;
}

/** The groups with only the pairs every filter keeps (groups keep their order and names), and the counts. */
export async function refineWeakPairs(settings: WeakFilterSettings, inputs: RefinementInputs): Promise<{ groups: WeakPairGroup[]; stats: WeakRefinementStats }> {
  const all = inputs.groups.flatMap((g) => g.rows);
  const textOf = (p: WeakPair) => ({ query: p.query, document: inputs.documentText(p.docId) });
  const copyFiltered = filterCopiedQueries(all, inputs.documentText, { maxOverlap: settings.maxOverlap ?? 1, maxSpanShare: settings.maxSpanShare ?? 1 });
  let kept = copyFiltered.kept;
  if (settings.denseTopK !== null) {
    if (!inputs.dense) throw new Error('weakFilter.denseTopK needs the starting encoder and its corpus embeddings');
    const { encoder, corpus } = inputs.dense;
    const vectors = await encoder.encode(
      kept.map((p) => p.query),
      ENCODE_BATCH,
      (done) => inputs.onProgress?.(done, kept.length),
    );
    const ranks = sourceDocumentRanks(
      vectors,
      kept.map((p) => p.docId),
      corpus,
      settings.denseTopK,
    );
    kept = filterByDenseRoundTrip(kept, ranks, settings.denseTopK).kept;
  }
  const keptSet = new Set(kept);
  const groups = inputs.groups.map((g) => ({ source: g.source, rows: g.rows.filter((r) => keptSet.has(r)) }));
  return {
    groups,
    stats: {
      bm25Kept: all.length,
      afterCopyFilter: copyFiltered.kept.length,
      afterDenseRoundTrip: kept.length,
      copyRate: { weak: copyRateSummary(all.map(textOf)), kept: copyRateSummary(kept.map(textOf)), labeled: copyRateSummary(inputs.labeled) },
    },
  };
}
