import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import type { ArtifactRef } from '../common/artifact-ref.ts';
import type { PipelineConfig } from '../common/pipeline-config.ts';
import type { PreparedData, SystemEvaluation } from '../common/pipeline-stages.ts';
import { loadQrels, loadQueries, readCorpus, writeRun } from '../lib/beir/index.ts';
import { deserializeBm25Index, indexDocuments, type Bm25Index } from '../lib/bm25/index.ts';
import { evaluateRun } from '../lib/metrics/index.ts';
import { filterWeakPairs } from '../lib/weak-data/index.ts';
import { shardResultSchema, type ShardResult } from '../common/generation-types.ts';
import { CorruptArtifactError, DataFormatError } from '../common/errors.ts';
import { weakPairRowSchema } from '../common/retriever-types.ts';
import { appendFile } from 'node:fs/promises';
import type { ArtifactStore } from './artifact-store/index.ts';
import { markReused } from './activity-costs.ts';
import { withLocalCopies } from './local-copies.ts';
import { stageKey, stageScope, storeOnce } from './stage-artifacts.ts';

const RETRIEVAL_DEPTH = 100; // MAP@100 and Recall@100 need the top 100

/** BM25 over the whole corpus: the index (built once, stored), the BM25 baseline run and its metrics. */
export function createBm25Activities(deps: { store: ArtifactStore }) {
  const { store } = deps;
  // Loaded indexes by sha256: a worker filtering many shards loads the index once.
  const loaded = new Map<string, Bm25Index>();
  const loadIndex = async (ref: ArtifactRef): Promise<Bm25Index> => {
    let index = loaded.get(ref.sha256);
    if (!index) {
      index = deserializeBm25Index(await store.get(ref));
      loaded.clear();
      loaded.set(ref.sha256, index);
    }
    return index;
  };

  return {
    async buildBm25Index(input: { config: PipelineConfig; scope: string; prepared: PreparedData }): Promise<ArtifactRef> {
      const { config, scope, prepared } = input;
      const params = { backend: config.weakFilter.backend, k1: config.weakFilter.k1, b: config.weakFilter.b };
      const sc = stageScope(scope, 'bm25-index', params, [prepared.corpus]);
      const { ref, reused } = await storeOnce(store, stageKey(sc, `${params.backend}.bm25`), config.reuseArtifacts, () =>
        withLocalCopies(store, { corpus: prepared.corpus }, async (paths) => {
          Context.current().heartbeat({ step: 'indexing' });
          const index = await indexDocuments(readCorpus(paths['corpus']!), params);
          return index.serialize();
        }),
      );
      if (reused) markReused();
      return ref;
    },

    /**
     * The weak data filter for one shard: keep (weak query, source document) iff BM25 ranks the document in the
     * top-k for its own query. Writes `${base}.kept.jsonl` ({queryId, docId, query, rank}) and returns counts.
     */
    async filterShardWeakQueries(input: { index: ArtifactRef; topK: number; shard: ShardResult; outputPrefix: string }): Promise<{ total: number; kept: number; keptPairs: ArtifactRef }> {
      const base = `${input.outputPrefix}/shard-${String(input.shard.index).padStart(6, '0')}`;
      const bm25 = await loadIndex(input.index);
      const rows = new TextDecoder().decode(await store.get(input.shard.weakQueries)).split('\n').filter(Boolean);
      const pairs = rows.map((line) => {
        const r = JSON.parse(line) as { _id?: unknown; text?: unknown };
        if (typeof r._id !== 'string' || typeof r.text !== 'string') throw new CorruptArtifactError(`${input.shard.weakQueries.key}: a row is not {_id, text}`);
        return { queryId: `weak-${r._id}`, docId: r._id, query: r.text };
      });
      const ctx = Context.current();
      const result = await filterWeakPairs(bm25, pairs, { topK: input.topK, onProgress: (done) => ctx.heartbeat({ done }), progressEvery: 200 });
      const keptPairs = await store.put(`${base}.kept-k${input.topK}.jsonl`, result.kept.map((k) => `${JSON.stringify(k)}\n`).join(''));
      return { total: result.stats.total, kept: result.stats.kept, keptPairs };
    },

    /**
     * Earlier runs' kept pairs through the filter again with this run's index (incremental runs: the corpus may have
     * grown, so a pair kept then may not be now). One JSONL artifact of the pairs still kept, keyed by the inputs.
     */
    async refilterWeakPairs(input: { scope: string; index: ArtifactRef; topK: number; pairs: readonly ArtifactRef[] }): Promise<{ keptPairs: ArtifactRef; total: number; kept: number }> {
      const sc = stageScope(input.scope, 'weak-filter', { topK: input.topK, earlierRuns: true }, [input.index, ...input.pairs]);
      const bm25 = await loadIndex(input.index);
      const rows = [];
      for (const ref of input.pairs) {
        const lines = new TextDecoder().decode(await store.get(ref)).split('\n');
        for (let i = 0; i < lines.length; i++) {
          const line = lines[i]!;
          if (line.trim() === '') continue;
          let json: unknown;
          try {
            json = JSON.parse(line);
          } catch (err) {
            throw new DataFormatError(`${ref.key}:${i + 1}: not JSON (${(err as Error).message}); kept pairs are JSONL rows {"queryId", "docId", "query", "rank"}`);
          }
          const row = weakPairRowSchema.safeParse(json);
          if (!row.success) throw new DataFormatError(`${ref.key}:${i + 1}: ${row.error.issues.map((x) => `${x.path.join('.') || '(row)'}: ${x.message}`).join('; ')}`);
          rows.push(row.data);
        }
      }
      const ctx = Context.current();
      const result = await filterWeakPairs(bm25, rows, { topK: input.topK, onProgress: (done) => ctx.heartbeat({ done }), progressEvery: 200 });
      const keptPairs = await store.put(stageKey(sc, `kept-k${input.topK}.jsonl`), result.kept.map((k) => `${JSON.stringify(k)}\n`).join(''));
      return { keptPairs, total: result.stats.total, kept: result.stats.kept };
    },

    /** All shards' kept pairs of one generation run as one JSONL artifact, with totals. */
    async mergeKeptPairs(input: { outputPrefix: string; topK: number }): Promise<{ keptPairs: ArtifactRef; kept: number; generated: number; failed: number; shards: number }> {
      const resultKeys = (await store.list(`${input.outputPrefix}/shard-`)).filter((k) => k.endsWith('.result.json'));
      return withLocalCopies(store, {}, async (_paths, dir) => {
        const out = join(dir, 'kept.jsonl');
        await appendFile(out, '');
        let kept = 0;
        let generated = 0;
        let failed = 0;
        for (const key of resultKeys) {
          const r = shardResultSchema.parse(JSON.parse(new TextDecoder().decode(await store.get(key))));
          generated += r.generated;
          failed += r.failed;
          const keptKey = key.replace(/\.result\.json$/, `.kept-k${input.topK}.jsonl`);
          const bytes = await store.get(keptKey);
          kept += new TextDecoder().decode(bytes).split('\n').filter(Boolean).length;
          await appendFile(out, bytes);
        }
        return { keptPairs: await store.putFile(`${input.outputPrefix}/kept-pairs-k${input.topK}.jsonl`, out), kept, generated, failed, shards: resultKeys.length };
      });
    },

    async evaluateBm25(input: { config: PipelineConfig; scope: string; prepared: PreparedData; index: ArtifactRef }): Promise<SystemEvaluation> {
      const { config, scope, prepared, index } = input;
      const sc = stageScope(scope, 'evaluate', { system: 'bm25', depth: RETRIEVAL_DEPTH }, [index, prepared.queries, prepared.testQrels]);
      return withLocalCopies(store, { queries: prepared.queries, qrels: prepared.testQrels }, async (paths, dir) => {
        const queries = (await loadQueries(paths['queries']!)).value;
        const qrels = (await loadQrels(paths['qrels']!)).value;
        const bm25 = await loadIndex(index);
        const run = new Map<string, Map<string, number>>();
        const lists = [];
        for (const qid of [...qrels.keys()].sort()) {
          const text = queries.get(qid);
          if (text === undefined) continue; // a judged query without text scores 0, as trec_eval counts it
          const hits = bm25.search(text, RETRIEVAL_DEPTH);
          run.set(qid, new Map(hits.map((h) => [h.id, h.score])));
          lists.push({ queryId: qid, hits });
        }
        const evaluation = evaluateRun(qrels, run);
        await writeRun(join(dir, 'bm25.run'), lists, 'bm25');
        const perQuery = JSON.stringify({ queryIds: evaluation.queryIds, metrics: Object.fromEntries(Object.entries(evaluation.perQuery).map(([k, v]) => [k, [...v]])) });
        return {
          system: 'bm25' as const,
          metrics: {
            ndcg10: evaluation.mean['ndcg@10']!,
            map100: evaluation.mean['map@100']!,
            recall100: evaluation.mean['recall@100']!,
            mrr10: evaluation.mean['mrr@10']!,
            queries: evaluation.queryIds.length,
          },
          run: await store.putFile(stageKey(sc, 'bm25.run'), join(dir, 'bm25.run')),
          perQuery: await store.put(stageKey(sc, 'bm25.per-query.json'), perQuery),
        };
      });
    },
  };
}

export type Bm25Activities = ReturnType<typeof createBm25Activities>;
