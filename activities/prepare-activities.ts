import { createHash } from 'node:crypto';
import { access, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Context } from '@temporalio/activity';
import type { ArtifactRef } from '../common/artifact-ref.ts';
import { ConfigError, CorruptArtifactError } from '../common/errors.ts';
import { shardKey, type ShardSet } from '../common/generation-types.ts';
import type { PipelineConfig } from '../common/pipeline-config.ts';
import { lastSuccessSchema, preparedDataSchema, type LastSuccess, type PreparedData } from '../common/pipeline-stages.ts';
import { LineWriter, loadQrels, loadQueries, readCorpus, writeQrels, writeQueries } from '../lib/beir/index.ts';
import { makeSptarSplits } from '../lib/splits/sptar-splits.ts';
import { hashFile } from './artifact-store/artifact-store.ts';
import type { ArtifactStore } from './artifact-store/index.ts';
import { markReused } from './activity-costs.ts';
import { withScratch } from './local-copies.ts';
import { stageKey, stageScope } from './stage-artifacts.ts';

export interface PrepareInput {
  readonly config: PipelineConfig;
  /** Incremental mode: the last successful run; only documents new or changed since then are augmented. */
  readonly previous?: LastSuccess | null;
  /** Artifact scope: the run name when finished stages may be reused, the workflow id when not. */
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
      if (!ref) return null;
      const parsed = lastSuccessSchema.safeParse(JSON.parse(new TextDecoder().decode(await store.get(ref))));
      if (!parsed.success) throw new CorruptArtifactError(`${ref.key} is not a run pointer; delete it to start a full run`);
      return parsed.data;
    },

    async recordSuccess(input: { runName: string; pointer: LastSuccess }): Promise<ArtifactRef> {
      return store.put(lastSuccessKey(input.runName), JSON.stringify(lastSuccessSchema.parse(input.pointer)));
    },

    async prepareData({ config, scope, previous }: PrepareInput): Promise<PreparedData> {
      const root = resolve(config.dataset.path);
      const files = {
        corpus: join(root, 'corpus.jsonl'),
        queries: join(root, 'queries.jsonl'),
        trainQrels: join(root, config.dataset.trainQrels),
        testQrels: join(root, config.dataset.testQrels),
      };
      for (const [what, path] of Object.entries(files)) {
        try {
          await access(path);
        } catch {
          throw new ConfigError(`dataset.path ${root}: ${what} file ${path} is missing; point dataset.path at a BEIR folder (corpus.jsonl, queries.jsonl, qrels/)`);
        }
      }
      // The fingerprint covers the bytes of every input file, so a changed dataset never reuses old splits.
      const fingerprint = createHash('sha256');
      for (const path of Object.values(files)) fingerprint.update((await hashFile(path)).sha256);
      const datasetFingerprint = fingerprint.digest('hex');
      const incremental = config.mode === 'incremental' && previous ? previous.docHashes.sha256 : null;
      const slice = { dataset: config.dataset, splits: config.splits, seed: config.seed, shardSize: config.generation.shardSize, datasetFingerprint, incremental };
      const sc = stageScope(scope, 'prepare', slice, []);
      const resultKey = stageKey(sc, 'prepared.json');
      if (config.reuseArtifacts) {
        const existing = await store.stat(resultKey);
        if (existing) {
          const parsed = preparedDataSchema.safeParse(JSON.parse(new TextDecoder().decode(await store.get(existing))));
          if (!parsed.success) throw new CorruptArtifactError(`${resultKey} is not a prepared-data record; delete it to prepare again`);
          markReused();
          return parsed.data;
        }
      }
      const ctx = Context.current();
      const readOptions = (dir: string, name: string) => ({ onBadRow: config.dataset.onBadRow, rejectsPath: join(dir, `rejects-${name}.jsonl`) });

      return withScratch(async (dir) => {
        const trainQrels = await loadQrels(files.trainQrels, readOptions(dir, 'train-qrels'));
        const testQrels = await loadQrels(files.testQrels, readOptions(dir, 'test-qrels'));
        const queries = await loadQueries(files.queries, readOptions(dir, 'queries'));
        ctx.heartbeat({ step: 'qrels and queries read' });

        // Pass 1: normalised corpus, per-document content hashes, ids.
        const corpusOut = new LineWriter(join(dir, 'corpus.jsonl'));
        const hashesOut = new LineWriter(join(dir, 'doc-hashes.tsv'));
        const ids: string[] = [];
        const corpusReader = readCorpus(files.corpus, readOptions(dir, 'corpus'));
        for await (const row of corpusReader) {
          const line = JSON.stringify({ _id: row._id, title: row.title, text: row.text });
          await corpusOut.writeLine(line);
          await hashesOut.writeLine(`${row._id}\t${createHash('sha256').update(`${row.title}\n${row.text}`).digest('hex')}`);
          ids.push(row._id);
          if (ids.length % 100_000 === 0) ctx.heartbeat({ step: 'corpus', documents: ids.length });
        }
        await corpusOut.close();
        await hashesOut.close();

        const splits = makeSptarSplits(trainQrels.value, testQrels.value, ids, {
          seed: config.seed,
          trainPairs: config.splits.trainPairs,
          evalQueries: config.splits.evalQueries,
          unlabeledLimit: config.splits.unlabeledLimit,
        });

        // Pass 2: D_unlabeled into shards of shardSize documents, in corpus order.
        // Incremental: skip unjudged documents whose content hash equals the last successful run's.
        const unlabeled = new Set(splits.dUnlabeled);
        let unchanged = 0;
        if (incremental && previous) {
          const before = await previousHashes(store, previous.docHashes);
          for (const line of (await readFile(join(dir, 'doc-hashes.tsv'), 'utf8')).split('\n')) {
            const [id, hash] = line.split('\t');
            if (id && unlabeled.has(id) && before.get(id) === hash) {
              unlabeled.delete(id);
              unchanged++;
            }
          }
        }
        const prefix = stageKey(sc, 'unlabeled');
        let shardCount = 0;
        let unlabeledDocs = 0;
        let buffer: string[] = [];
        const flush = async (): Promise<void> => {
          if (buffer.length === 0) return;
          await store.put(shardKey({ prefix }, shardCount++), buffer.join('\n') + '\n');
          buffer = [];
        };
        for await (const row of readCorpus(join(dir, 'corpus.jsonl'))) {
          if (!unlabeled.has(row._id)) continue;
          buffer.push(JSON.stringify({ _id: row._id, title: row.title, text: row.text }));
          unlabeledDocs++;
          if (buffer.length >= config.generation.shardSize) await flush();
        }
        await flush();
        const shards: ShardSet = { prefix, count: shardCount, documents: unlabeledDocs };

        const qrelRows = (pairs: readonly { queryId: string; docId: string }[]) => pairs.map((p) => ({ queryId: p.queryId, docId: p.docId, score: 1 }));
        await writeQrels(join(dir, 's-train.tsv'), qrelRows(splits.sTrain));
        await writeQrels(join(dir, 's-eval.tsv'), qrelRows(splits.sEval));
        await writeQrels(
          join(dir, 'test.tsv'),
          [...testQrels.value].flatMap(([queryId, docs]) => [...docs].map(([docId, score]) => ({ queryId, docId, score }))),
        );
        await writeQueries(join(dir, 'queries.jsonl'), [...queries.value].map(([_id, text]) => ({ _id, text })));

        const rejected = [trainQrels, testQrels, queries].reduce((n, l) => n + l.stats.skipped, 0) + corpusReader.stats.skipped;
        let rejects: ArtifactRef | null = null;
        if (rejected > 0) {
          const parts: string[] = [];
          for (const name of ['corpus', 'queries', 'train-qrels', 'test-qrels']) {
            try {
              parts.push(await readFile(join(dir, `rejects-${name}.jsonl`), 'utf8'));
            } catch (err) {
              if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // no rejects from this file
            }
          }
          rejects = await store.put(stageKey(sc, 'rejects.jsonl'), parts.join(''));
        }

        const prepared: PreparedData = {
          datasetFingerprint,
          corpus: await store.putFile(stageKey(sc, 'corpus.jsonl'), join(dir, 'corpus.jsonl')),
          queries: await store.putFile(stageKey(sc, 'queries.jsonl'), join(dir, 'queries.jsonl')),
          sTrain: await store.putFile(stageKey(sc, 's-train.tsv'), join(dir, 's-train.tsv')),
          sEval: await store.putFile(stageKey(sc, 's-eval.tsv'), join(dir, 's-eval.tsv')),
          testQrels: await store.putFile(stageKey(sc, 'test-qrels.tsv'), join(dir, 'test.tsv')),
          unlabeled: shards,
          docHashes: await store.putFile(stageKey(sc, 'doc-hashes.tsv'), join(dir, 'doc-hashes.tsv')),
          rejects,
          counts: {
            documents: ids.length,
            queries: queries.value.size,
            sTrainPairs: splits.sTrain.length,
            sEvalQueries: new Set(splits.sEval.map((p) => p.queryId)).size,
            testQueries: splits.dTestQueries.length,
            unlabeledDocuments: shards.documents,
            unchangedSinceLastRun: unchanged,
            rejectedRows: rejected,
          },
        };
        await store.put(resultKey, JSON.stringify(prepared));
        return prepared;
      });
    },
  };
}

const lastSuccessKey = (runName: string): string => `${runName}/last-success.json`;

async function previousHashes(store: ArtifactStore, ref: ArtifactRef): Promise<Map<string, string>> {
  const map = new Map<string, string>();
  for (const line of new TextDecoder().decode(await store.get(ref)).split('\n')) {
    const [id, hash] = line.split('\t');
    if (id && hash) map.set(id, hash);
  }
  return map;
}

export type PrepareActivities = ReturnType<typeof createPrepareActivities>;
