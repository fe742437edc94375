import { Context } from '@temporalio/activity';
import { lastSuccessKey, prepareKeys, shardDocumentsKey, stageScopes } from '../common/artifact-keys.ts';
import type { ArtifactRef } from '../common/artifact-ref.ts';
import { lastSuccessSchema, preparedDataSchema, type LastSuccess, type PreparedData } from '../common/pipeline-stages.ts';
import type { PrepareConfig } from '../common/stage-configs.ts';
import type { ArtifactStore } from '../lib/artifact-store/index.ts';
import { withScratch } from '../lib/artifact-store/local-copies.ts';
import { datasetFiles, datasetFingerprint, parseDocHashes, prepareDataset, requireDatasetFiles } from '../lib/sptar/prepare-stage.ts';
import { parseStoredJson, storedResult } from './stored-results.ts';

export interface PrepareInput {
  readonly config: PrepareConfig;
  /** Incremental mode: the last successful run; only documents new or changed since then are augmented. */
  readonly previous?: LastSuccess | null;
  /** Artifact scope: the run name when finished stages may be reused, the run's own scope when not. */
  readonly scope: string;
}

/**
 * Reads the BEIR dataset once from `dataset.path` (a path on the machine that runs this activity), stores
 * everything later stages need in the artifact store, and returns references: after this stage no activity reads
 * a local file.
 */
export function createPrepareActivities(deps: { store: ArtifactStore }) {
  const { store } = deps;
  return {
    /** The pointer the last successful run of this run name left, or null. */
    async findLastSuccess(input: { runName: string }): Promise<LastSuccess | null> {
      const ref = await store.stat(lastSuccessKey(input.runName));
      return ref ? parseStoredJson(await store.get(ref), ref.key, lastSuccessSchema, 'a run pointer') : null;
    },

    async recordSuccess(input: { runName: string; pointer: LastSuccess }): Promise<ArtifactRef> {
      return store.put(lastSuccessKey(input.runName), JSON.stringify(lastSuccessSchema.parse(input.pointer)));
    },

    async prepareData({ config, scope, previous }: PrepareInput): Promise<PreparedData> {
      const files = datasetFiles(config.dataset);
      await requireDatasetFiles(config.dataset, files);
      const fingerprint = await datasetFingerprint(files);
      const incremental = config.mode === 'incremental' && previous ? previous.docHashes : null;
      const keys = prepareKeys(stageScopes.prepare(scope, config, fingerprint, incremental?.sha256 ?? null));
      const stored = await storedResult(store, keys.record, config.reuseArtifacts, preparedDataSchema, 'a prepared-data record');
      if (stored) return stored;

      const ctx = Context.current();
      const previousHashes = incremental ? parseDocHashes(new TextDecoder().decode(await store.get(incremental))) : null;
      return withScratch(async (dir) => {
        const out = await prepareDataset(config, files, dir, previousHashes, (details) => ctx.heartbeat(details));
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
      });
    },
  };
}

export type PrepareActivities = ReturnType<typeof createPrepareActivities>;
