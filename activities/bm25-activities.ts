import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { z } from 'zod';
import { bm25IndexKey, evaluationKeys, generationShardKeys, mergedKeptPairsKey, refilteredPairsKey, shardDocumentsKey, stageScopes } from '../common/artifact-keys.ts';
import type { ArtifactRef } from '../common/artifact-ref.ts';
import { ConfigError, CorruptArtifactError, DataFormatError } from '../common/errors.ts';
import { shardResultSchema, type ShardResult, type ShardSet } from '../common/generation-types.ts';
import type { PreparedData, SystemEvaluation } from '../common/pipeline-stages.ts';
import { weakPairRowSchema } from '../common/retriever-types.ts';
import type { Bm25Config } from '../common/stage-configs.ts';
import { describeZodIssues } from '../common/zod-issues.ts';
import type { ArtifactStore } from '../lib/artifact-store/index.ts';
import { withLocalCopies, withScratch } from '../lib/artifact-store/local-copies.ts';
import { loadQrels, loadQueries, readCorpus, writeRun } from '../lib/beir/index.ts';
import { parseJsonlRows, toJsonl } from '../lib/beir/jsonl-rows.ts';
import { deserializeBm25Index, indexDocuments, type Bm25Index } from '../lib/bm25/index.ts';
import { evaluateRun, perQueryJson, TEST_RUN_DEPTH, testMetrics } from '../lib/metrics/index.ts';
import { queriesWithText, toRun } from '../lib/retrieval/dense-retrieval.ts';
import { shardDocumentIds } from '../lib/sptar/prepare-stage.ts';
import { filterWeakPairs } from '../lib/weak-data/index.ts';
import { markReused } from './activity-costs.ts';
import { pacedItems, withHeartbeatClock, type HeartbeatClock, type HeartbeatClockOptions } from './heartbeat-clock.ts';
import { parseStoredJson, storeOnce } from './stored-results.ts';

/** A generated weak query as a shard stores it: queries.jsonl rows, id = the source document's id. */
const weakQueryRowSchema = z.object({ _id: z.string(), text: z.string() });
const WEAK_PAIRS_SHAPE = 'kept pairs are JSONL rows {"queryId", "docId", "query", "rank"}';

/**
 * BM25 over the whole corpus: the index (built once, stored), the weak-data filter, and the BM25 baseline. Each
 * activity heartbeats on a clock (`deps.heartbeats`, tests pass fake timers), at least every 30 s while it works.
 */
export function createBm25Activities(deps: { store: ArtifactStore; heartbeats?: HeartbeatClockOptions }) {
  const { store } = deps;
  // Per-item beats (documents, pairs, queries) are sent at most once a second; the clock fills the gaps.
  const onClock = <T>(initial: unknown, work: (clock: HeartbeatClock) => Promise<T>): Promise<T> => {
    const ctx = Context.current();
    return withHeartbeatClock((details) => ctx.heartbeat(details), { minGapMs: 1000, ...deps.heartbeats, initial }, work);
  };
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
  const filterBeating = (bm25: Bm25Index, pairs: readonly { readonly queryId: string; readonly docId: string; readonly query: string }[], topK: number, clock: HeartbeatClock) =>
    filterWeakPairs(bm25, pacedItems(pairs, clock, (done) => ({ done, total: pairs.length })), { topK });

  return {
    async buildBm25Index(input: { config: Bm25Config; scope: string; prepared: PreparedData }): Promise<ArtifactRef> {
      const { config, scope, prepared } = input;
      const params = { backend: config.weakFilter.backend, k1: config.weakFilter.k1, b: config.weakFilter.b };
      const key = bm25IndexKey(stageScopes.bm25Index(scope, config, prepared), params.backend);
      return onClock({ step: 'copying the corpus' }, async (clock) => {
        const { ref, reused } = await storeOnce(store, key, config.reuseArtifacts, () =>
          withLocalCopies(store, { corpus: prepared.corpus }, async (paths) => {
            let documents = 0;
            const corpus = pacedItems(readCorpus(paths['corpus']!), clock, (done) => {
              documents = done;
              return { step: 'indexing', documents };
            });
            const index = await indexDocuments(corpus, params);
            clock.beat({ step: 'storing the index', documents });
            return index.serialize();
          }),
        );
        if (reused) markReused();
        return ref;
      });
    },

    /**
     * The weak data filter for one shard: keep (weak query, source document) iff BM25 ranks the document in the
     * top-k for its own query. Writes the shard's kept pairs ({queryId, docId, query, rank}) and returns counts.
     */
    async filterShardWeakQueries(input: { index: ArtifactRef; topK: number; shard: ShardResult; outputPrefix: string }): Promise<{ total: number; kept: number; keptPairs: ArtifactRef }> {
      return onClock({ step: 'loading the index' }, async (clock) => {
        const bm25 = await loadIndex(input.index);
        const rows = parseJsonlRows(await store.get(input.shard.weakQueries), input.shard.weakQueries.key, weakQueryRowSchema, { error: CorruptArtifactError });
        const pairs = rows.map((r) => ({ queryId: `weak-${r._id}`, docId: r._id, query: r.text }));
        const result = await filterBeating(bm25, pairs, input.topK, clock);
        const keptPairs = await store.put(generationShardKeys(input.outputPrefix, input.shard.index).kept(input.topK), toJsonl(result.kept));
        return { total: result.stats.total, kept: result.stats.kept, keptPairs };
      });
    },

    /**
     * Earlier runs' kept pairs through the filter again with this run's index (incremental runs: the corpus may have
     * grown, so a pair kept then may not be now). Pairs of the documents this run augments again (`replaced`, its
     * unlabeled shards: new, changed and earlier-missing documents) are dropped first: their queries were written for
     * text that is gone, and must not come back when this run's query for the new text is filtered out. One JSONL
     * artifact of the pairs still kept, keyed by the inputs.
     */
    async refilterWeakPairs(input: { scope: string; index: ArtifactRef; topK: number; pairs: readonly ArtifactRef[]; replaced?: ShardSet }): Promise<{ keptPairs: ArtifactRef; total: number; kept: number; superseded: number }> {
      return onClock({ step: 'loading the index' }, async (clock) => {
        const bm25 = await loadIndex(input.index);
        const replaced = new Set<string>();
        for (let i = 0; i < (input.replaced?.count ?? 0); i++) {
          for (const id of shardDocumentIds(new TextDecoder().decode(await store.get(shardDocumentsKey(input.replaced!, i))))) replaced.add(id);
        }
        const rows = [];
        for (const ref of input.pairs) rows.push(...parseJsonlRows(await store.get(ref), ref.key, weakPairRowSchema, { error: DataFormatError, expected: WEAK_PAIRS_SHAPE }));
        const current = rows.filter((r) => !replaced.has(r.docId));
        const result = await filterBeating(bm25, current, input.topK, clock);
        const key = refilteredPairsKey(stageScopes.refilter(input.scope, input.topK, input.index, input.pairs, input.replaced ?? null), input.topK);
        return { keptPairs: await store.put(key, toJsonl(result.kept)), total: rows.length, kept: result.stats.kept, superseded: rows.length - current.length };
      });
    },

    /**
     * All shards' kept pairs of one generation stage as one JSONL artifact, with totals. A shard without a stored
     * result (failed) contributes nothing.
     */
    async mergeKeptPairs(raw: { outputPrefix: string; topK: number; shards: number }): Promise<{ keptPairs: ArtifactRef; kept: number; generated: number; failed: number; shards: number }> {
      const parsed = mergeInputSchema.safeParse(raw);
      if (!parsed.success) throw new ConfigError(`mergeKeptPairs: ${describeZodIssues(parsed.error)}`);
      const input = parsed.data;
      return onClock({ shardsMerged: 0, of: input.shards }, (clock) => withScratch(async (dir) => {
        const out = join(dir, 'kept.jsonl');
        await appendFile(out, '');
        let kept = 0;
        let generated = 0;
        let failed = 0;
        let shards = 0;
        for (let i = 0; i < input.shards; i++) {
          const keys = generationShardKeys(input.outputPrefix, i);
          const resultRef = await store.stat(keys.result);
          if (!resultRef) continue;
          const r = parseStoredJson(await store.get(resultRef), keys.result, shardResultSchema, 'a shard result');
          shards++;
          generated += r.generated;
          failed += r.failed;
          const bytes = await store.get(keys.kept(input.topK));
          kept += new TextDecoder().decode(bytes).split('\n').filter(Boolean).length;
          await appendFile(out, bytes);
          clock.beat({ shardsMerged: i + 1, of: input.shards });
        }
        clock.beat({ shardsMerged: input.shards, of: input.shards, step: 'storing the merged pairs' });
        return { keptPairs: await store.putFile(mergedKeptPairsKey(input.outputPrefix, input.topK), out), kept, generated, failed, shards };
      }));
    },

    async evaluateBm25(input: { scope: string; prepared: PreparedData; index: ArtifactRef }): Promise<SystemEvaluation> {
      const { scope, prepared, index } = input;
      const keys = evaluationKeys(stageScopes.evaluate(scope, { system: 'bm25', depth: TEST_RUN_DEPTH }, [index, prepared.queries, prepared.testQrels]), 'bm25');
      return onClock({ step: 'loading the index' }, (clock) => withLocalCopies(store, { queries: prepared.queries, qrels: prepared.testQrels }, async (paths, dir) => {
        const queries = (await loadQueries(paths['queries']!)).value;
        const qrels = (await loadQrels(paths['qrels']!)).value;
        const bm25 = await loadIndex(index);
        // A judged query without text is left out of the run and scores 0, as trec_eval counts it.
        const withText = queriesWithText(qrels.keys(), queries);
        const lists = [];
        for await (const q of pacedItems(withText, clock, (done) => ({ step: 'searching', done, total: withText.length }))) lists.push({ queryId: q.id, hits: bm25.search(q.text, TEST_RUN_DEPTH) });
        const evaluation = evaluateRun(qrels, toRun(lists));
        await writeRun(join(dir, 'bm25.run'), lists, 'bm25');
        return {
          system: 'bm25' as const,
          metrics: testMetrics(evaluation),
          run: await store.putFile(keys.run, join(dir, 'bm25.run')),
          perQuery: await store.put(keys.perQuery, perQueryJson(evaluation)),
        };
      }));
    },
  };
}

const mergeInputSchema = z.object({
  outputPrefix: z.string().min(1),
  topK: z.number().int().positive(),
  shards: z.number().int().nonnegative().describe('Shards of the generation stage; shard i has its outputs at generationShardKeys(outputPrefix, i)'),
});

export type Bm25Activities = ReturnType<typeof createBm25Activities>;
