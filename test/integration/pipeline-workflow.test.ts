// The pipeline on the real dev server and object store with the shipped SciFact data.
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import { createArtifactStore } from '../../lib/artifact-store/index.ts';
import type { PipelineProgress } from '../../common/pipeline-stages.ts';
import { TASK_QUEUES } from '../../common/task-queues.ts';
import type { PipelineResult } from '../../workflows/pipeline-workflow.ts';
import { createModelWorker, createOrchestratorWorker } from '../../workers/worker.ts';
import { startWorkers, type LiveWorkers } from '../support/live-workers.ts';
import { serviceSettings } from '../support/services.ts';

const settings = serviceSettings();
const store = createArtifactStore(settings.store);

describe('SPTAR pipeline on SciFact (real services)', () => {
  let live: LiveWorkers;
  let client: Client;

  before(async () => {
    live = await startWorkers(async (nc) => [await createOrchestratorWorker(nc, settings), await createModelWorker(nc, settings)]);
    client = live.client;
  });
  after(() => live.stop());

  // No LLM stages; the dense baselines (zero-shot, W/O) with a seeded tiny encoder, one epoch.
  const BASELINES_ONLY = {
    augment: false,
    dataset: { path: '../shared/data/scifact' },
    generation: { shardSize: 1000 },
    encoder: { kind: 'tiny', architecture: 'bert', seed: 5 },
    retriever: { epochs: 1, batchSize: 16, maxSequenceLength: 48 },
  };

  it('prepares disjoint splits, reproduces BM25 on SciFact and writes the report and manifest', async () => {
    const runName = `test-pipeline-${Date.now()}`;
    const workflowId = `${runName}-1`;
    const handle = await client.workflow.start('sptarPipeline', {
      taskQueue: TASK_QUEUES.orchestrator,
      workflowId,
      args: [{ runName, ...BASELINES_ONLY }],
    });
    const result = (await handle.result()) as PipelineResult;
    const c = result.prepared.counts;
    assert.deepEqual(
      [c.documents, c.queries, c.sTrainPairs, c.sEvalQueries, c.testQueries, c.rejectedRows],
      [5183, 1109, 50, 100, 300, 0],
    );
    // Unlabeled = documents judged in neither qrels file.
    assert.equal(c.unlabeledDocuments, result.prepared.unlabeled.documents);
    assert.equal(result.prepared.unlabeled.count, Math.ceil(c.unlabeledDocuments / 1000));
    const bm25 = result.evaluations.find((e) => e.system === 'bm25');
    assert.ok(bm25);
    // Published BM25 on SciFact test: 0.665 (BEIR) to 0.679 (Anserini flat).
    assert.ok(bm25.metrics.ndcg10 >= 0.67 && bm25.metrics.ndcg10 <= 0.69, `BM25 nDCG@10 ${bm25.metrics.ndcg10}`);
    assert.equal(bm25.metrics.queries, 300);

    const report = new TextDecoder().decode(await store.get(result.reportKey));
    assert.match(report, new RegExp(`\\| BM25 \\| ${bm25.metrics.ndcg10.toFixed(4)} \\|`));
    const progress = await handle.query<PipelineProgress>('progress');
    assert.equal(progress.stage, 'done');
    assert.deepEqual(progress.stagesDone, ['prepare', 'bm25', 'train-retrievers', 'evaluate', 'report']);
    assert.deepEqual(result.evaluations.map((e) => e.system), ['bm25', 'zero-shot', 'wo']);
    assert.deepEqual(result.retrievers.map((r) => [r.system, r.counts.weakPairs, r.curve.length]), [['wo', 0, 2]]);
    const described = await handle.describe();
    assert.equal(described.searchAttributes['SptarStage']?.[0], 'done');
    assert.equal(described.memo?.['reportKey'], result.reportKey);
    assert.ok(String(described.memo?.['report']).startsWith(`${store.location}/`));

    // A second run with the same inputs reuses every stage artifact: same keys, same bytes.
    const again = (await client.workflow.execute('sptarPipeline', {
      taskQueue: TASK_QUEUES.orchestrator,
      workflowId: `${runName}-2`,
      args: [{ runName, ...BASELINES_ONLY }],
    })) as PipelineResult;
    assert.deepEqual(again.prepared, result.prepared);
    assert.deepEqual(again.evaluations, result.evaluations);
  });

  it('incremental runs augment only documents new or changed since the last successful run', async () => {
    // A copy inside the checkout, one of the workers' data roots (infra/env.sh); the system temp folder is none of them.
    const scratch = resolve('.state', 'test-data');
    await mkdir(scratch, { recursive: true });
    const dir = await mkdtemp(join(scratch, 'incremental-'));
    try {
      await cp('../shared/data/scifact', dir, { recursive: true });
      const runName = `test-incr-${Date.now()}`;
      const config = { runName, mode: 'incremental', augment: false, dataset: { path: dir }, generation: { shardSize: 1000 }, retriever: { enabled: false } };
      const first = (await client.workflow.execute('sptarPipeline', { taskQueue: TASK_QUEUES.orchestrator, workflowId: `${runName}-1`, args: [config] })) as PipelineResult;
      assert.equal(first.prepared.counts.unchangedSinceLastRun, 0);

      // The corpus grows by two documents and three unjudged documents change.
      const judged = new Set<string>();
      for (const f of ['qrels/train.tsv', 'qrels/test.tsv']) for (const line of (await readFile(join(dir, f), 'utf8')).split('\n').slice(1)) judged.add(line.split('\t')[1] ?? '');
      const lines = (await readFile(join(dir, 'corpus.jsonl'), 'utf8')).trimEnd().split('\n');
      let changed = 0;
      const edited = lines.map((line) => {
        const row = JSON.parse(line) as { _id: string; title: string; text: string };
        if (changed < 3 && !judged.has(row._id)) {
          changed++;
          return JSON.stringify({ ...row, text: `${row.text} Updated.` });
        }
        return line;
      });
      edited.push(JSON.stringify({ _id: 'new-1', title: 'New', text: 'A new abstract about sleep.' }), JSON.stringify({ _id: 'new-2', title: 'New', text: 'Another about diet.' }));
      await writeFile(join(dir, 'corpus.jsonl'), edited.join('\n') + '\n');

      const second = (await client.workflow.execute('sptarPipeline', { taskQueue: TASK_QUEUES.orchestrator, workflowId: `${runName}-2`, args: [config] })) as PipelineResult;
      assert.equal(second.prepared.counts.unlabeledDocuments, 5);
      assert.equal(second.prepared.counts.unchangedSinceLastRun, first.prepared.counts.unlabeledDocuments - 3);
      assert.equal(second.prepared.counts.documents, first.prepared.counts.documents + 2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
