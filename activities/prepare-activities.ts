import { Context } from '@temporalio/activity';
import { doneDocHashesKey, lastSuccessKey, prepareKeys, shardDocumentsKey, stageScopes } from '../common/artifact-keys.ts';
import type { ArtifactRef } from '../common/artifact-ref.ts';
import { ConfigError } from '../common/errors.ts';
import { lastSuccessSchema, preparedDataSchema, type LastSuccess, type PreparedData } from '../common/pipeline-stages.ts';
import type { PrepareConfig } from '../common/stage-configs.ts';
import type { ArtifactStore } from '../lib/artifact-store/index.ts';
import { environmentDataRoots, type DataRoots } from '../lib/data-roots/data-roots.ts';
import { withScratch } from '../lib/artifact-store/local-copies.ts';
import { datasetFilesInRoots, datasetFingerprint, parseDocHashes, prepareDataset, requireDatasetFiles, shardDocumentIds, withoutDocuments } from '../lib/sptar/prepare-stage.ts';
import { withHeartbeatClock } from './heartbeat-clock.ts';
import { parseStoredJson, storedResult } from './stored-results.ts';

export interface PrepareInput {
  readonly config: PrepareConfig;
  /** Incremental mode: the last successful run; only documents new or changed since then are augmented. */
  readonly previous?: LastSuccess | null;
  /** Artifact scope: the run name when finished stages may be reused, the run's own scope when not. */
  readonly scope: string;
}

/**
 * Reads the BEIR dataset once from `dataset.path` (a path on the machine that runs this activity, inside its data
 * roots), stores
 * everything later stages need in the artifact store, and returns references: after this stage no activity reads
 * a local file.
 */
export function createPrepareActivities(deps: { store: ArtifactStore; dataRoots?: DataRoots }) {
  const { store } = deps;
  // Folders the files a config names must lie in (worker settings); default the environment's SPTAR_DATA_ROOTS.
  const dataRoots = deps.dataRoots ?? environmentDataRoots();
  return {
    /** The pointer the last successful run of this run name left, or null. */
    async findLastSuccess(input: { runName: string }): Promise<LastSuccess | null> {
      const ref = await store.stat(lastSuccessKey(input.runName));
      return ref ? parseStoredJson(await store.get(ref), ref.key, lastSuccessSchema, 'a run pointer') : null;
    },

    /**
     * The doc hashes to record as done when generation left failed shards: `prepared.docHashes` without their
     * documents (the next incremental run generates them), and how many documents each failed shard holds.
     */
    async excludeUndoneDocuments(input: { prepared: PreparedData; failedShards: number[] }): Promise<{ docHashes: ArtifactRef; documents: Record<number, number> }> {
      const failed = [...new Set(input.failedShards)].sort((a, b) => a - b);
      const notDone = new Set<string>();
      const documents: Record<number, number> = {};
      for (const i of failed) {
        if (!Number.isInteger(i) || i < 0 || i >= input.prepared.unlabeled.count) {
          throw new ConfigError(`excludeUndoneDocuments: shard ${i} is outside 0..${input.prepared.unlabeled.count - 1}`);
        }
        const ids = shardDocumentIds(new TextDecoder().decode(await store.get(shardDocumentsKey(input.prepared.unlabeled, i))));
        documents[i] = ids.length;
        for (const id of ids) notDone.add(id);
      }
      const { text } = withoutDocuments(new TextDecoder().decode(await store.get(input.prepared.docHashes)), notDone);
      return { docHashes: await store.put(doneDocHashesKey(input.prepared.docHashes.key, failed), text), documents };
    },

    async recordSuccess(input: { runName: string; pointer: LastSuccess }): Promise<ArtifactRef> {
      return store.put(lastSuccessKey(input.runName), JSON.stringify(lastSuccessSchema.parse(input.pointer)));
    },

    async prepareData({ config, scope, previous }: PrepareInput): Promise<PreparedData> {
      // Only files inside the worker's data roots: a config must not make the worker read (and store) any other file.
      const files = datasetFilesInRoots(config.dataset, dataRoots);
      await requireDatasetFiles(config.dataset, files);
      const fingerprint = await datasetFingerprint(files);
      const incremental = config.mode === 'incremental' && previous ? previous.docHashes : null;
      const keys = prepareKeys(stageScopes.prepare(scope, config, fingerprint, incremental?.sha256 ?? null));
      const stored = await storedResult(store, keys.record, config.reuseArtifacts, preparedDataSchema, 'a prepared-data record');
      if (stored) return stored;

      const ctx = Context.current();
      const previousHashes = incremental ? parseDocHashes(new TextDecoder().decode(await store.get(incremental))) : null;
      // Heartbeats on a clock as well as on progress: the shard uploads after the pass stay covered.
      return withScratch((dir) => withHeartbeatClock((details) => ctx.heartbeat(details), {}, async (clock) => {
        const out = await prepareDataset(config, files, dir, previousHashes, (details) => clock.beat(details));
        const unlabeled = { prefix: keys.unlabeledPrefix, count: out.shards.length, documents: out.counts.unlabeledDocuments };
        for (const [i, path] of out.shards.entries()) await store.putFile(shardDocumentsKey(unlabeled, i), path);
        const prepared: PreparedData = {
          datasetFingerprint: fingerprint,
          corpus: await store.putFile(keys.corpus, out.corpus),
          queries: await store.putFile(keys.queries, out.queries),
          sTrain: await store.putFile(keys.sTrain, out.sTrain),
          sEval: await store.putFile(keys.sEval, out.sEval),
          testQrels: await store.putFile(keys.testQrels, out.testQrels),
          unlabeled,
          docHashes: await store.putFile(keys.docHashes, out.docHashes),
          rejects: out.rejects === null ? null : await store.putFile(keys.rejects, out.rejects),
          counts: out.counts,
        };
        await store.put(keys.record, JSON.stringify(prepared));
        return prepared;
      }));
    },
  };
}

export type PrepareActivities = ReturnType<typeof createPrepareActivities>;
