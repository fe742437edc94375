// A generation shard that fails for good never passes silently: the pipeline waits, visibly, for an operator;
// once accepted, the shard's documents are counted as missing, recorded as not done (the next incremental run
// generates exactly them) and the run is not promoted. Tiny seeded models on a small SciFact slice, real services.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { createModelActivities } from '../../activities/index.ts';
import { shardDocumentsKey } from '../../common/artifact-keys.ts';
import { DataFormatError } from '../../common/errors.ts';
import type { GenerationProgress } from '../../common/generation-types.ts';
import { lastSuccessSchema, type PipelineProgress } from '../../common/pipeline-stages.ts';
import { TASK_QUEUES } from '../../common/task-queues.ts';
import { createArtifactStore } from '../../lib/artifact-store/index.ts';
import { parseDocHashes, shardDocumentIds } from '../../lib/sptar/prepare-stage.ts';
import type { PipelineResult } from '../../workflows/pipeline-workflow.ts';
import { createOrchestratorWorker } from '../../workers/worker.ts';
import { startWorkers, type LiveWorkers } from '../support/live-workers.ts';
import { recordHistory } from '../support/record-histories.ts';
import { serviceSettings } from '../support/services.ts';
import { TINY_PIPELINE_CONFIG } from '../support/tiny-pipeline-config.ts';

const settings = serviceSettings();
const store = createArtifactStore(settings.store);
const FAILING_SHARD = 1;

describe('failed generation shards (real services)', () => {
  let live: LiveWorkers;
  let client: Client;
  // While set, every attempt at this shard fails with a non-retryable error (a broken shard file, say).
  let failShard: number | null = FAILING_SHARD;

  before(async () => {
    live = await startWorkers(async (nc) => {
      const activities = createModelActivities({ store });
      const generateShard = activities.generateShard;
      activities.generateShard = async (input) => {
        if (input.index === failShard) throw new DataFormatError(`shard ${input.index} is unreadable (test)`);
        return generateShard(input);
      };
      const model = await Worker.create({ connection: nc, namespace: settings.namespace, taskQueue: TASK_QUEUES.model, maxConcurrentActivityTaskExecutions: 1, activities });
      return [await createOrchestratorWorker(nc, settings), model];
    });
    client = live.client;
  });
  after(() => live.stop());

  it('waits visibly for an operator, then records the missing documents as not done and refuses promotion', async () => {
    const runName = `test-failed-shards-${Date.now()}`;
    const config = { ...TINY_PIPELINE_CONFIG, runName, mode: 'incremental', retriever: { ...TINY_PIPELINE_CONFIG.retriever, epochs: 1 } };
    const handle = await client.workflow.start('sptarPipeline', { taskQueue: TASK_QUEUES.orchestrator, workflowId: `${runName}-1`, args: [config] });

    // Each generation stage holds the failed shard for an operator; the run's stage and progress say so.
    for (const system of ['sptar', 'inpars'] as const) {
      let progress: PipelineProgress | undefined;
      const expected = `${runName}-1/generate-${system}`;
      for (let i = 0; i < 1200 && progress?.waitingForOperator?.generationWorkflowId !== expected; i++) {
        await new Promise((r) => setTimeout(r, 250));
        progress = await handle.query<PipelineProgress>('progress').catch(() => undefined);
      }
      assert.deepEqual(progress?.waitingForOperator, { generationWorkflowId: expected, shardsFailed: [FAILING_SHARD] });
      const stageAttribute = (await handle.describe()).searchAttributes['SptarStage'];
      assert.deepEqual(stageAttribute, [`generate-${system}:waiting-for-operator`]);
      const gen = client.workflow.getHandle(progress!.waitingForOperator!.generationWorkflowId);
      const g = await gen.query<GenerationProgress>('generationProgress');
      assert.equal(g.waitingForOperator, true);
      assert.equal(g.shardsDone, 3);
      // A bad argument is rejected by the update's validator; the run goes on waiting.
      const rejectedWith = (pattern: RegExp) => (err: unknown) => pattern.test(String((err as { cause?: { message?: string } }).cause?.message));
      await assert.rejects(gen.executeUpdate('retryFailedShards', { args: [['x']] }), rejectedWith(/list of shard numbers/));
      await assert.rejects(gen.executeUpdate('retryFailedShards', { args: [[0]] }), rejectedWith(/shard\(s\) 0 have not failed/));
      assert.equal((await gen.query<GenerationProgress>('generationProgress')).waitingForOperator, true);
      assert.equal(await gen.executeUpdate('acceptFailedShards'), 1);
    }

    const first = (await handle.result()) as PipelineResult;
    const failedIds = shardDocumentIds(new TextDecoder().decode(await store.get(shardDocumentsKey(first.prepared.unlabeled, FAILING_SHARD))));
    assert.equal(failedIds.length, 8);
    for (const w of first.weakData) {
      assert.deepEqual(w.shardsFailed, [FAILING_SHARD]);
      assert.equal(w.documentsMissing, 8);
      assert.equal(w.generated + w.failed, 22, `${w.system}: the other shards' 22 documents each have a weak query or a recorded failure`);
    }
    const report = new TextDecoder().decode(await store.get(first.reportKey));
    for (const name of ['SPTAR', 'InPars-style']) assert.match(report, new RegExp(`^\\| ${name} \\| \\d+ \\| \\d+ \\| \\d+ \\| [\\d.]+% \\| 1 \\| 8 \\|$`, 'm'), `${name}: one failed shard, 8 documents missing in the report`);
    assert.equal(first.promotion?.promoted, false);
    assert.match(first.promotion?.reason ?? '', /^not promoted: 16 document\(s\) of failed generation shards have no weak query/);

    // What the run recorded as done: every document of the prepared hashes except the failed shard's.
    const pointer = lastSuccessSchema.parse(JSON.parse(new TextDecoder().decode(await store.get(`${runName}/last-success.json`))));
    const all = parseDocHashes(new TextDecoder().decode(await store.get(first.prepared.docHashes)));
    const done = parseDocHashes(new TextDecoder().decode(await store.get(pointer.docHashes)));
    assert.deepEqual([...all.keys()].filter((id) => !done.has(id)).sort(), [...failedIds].sort());
    assert.equal(pointer.promoted, undefined, 'nothing is served after an incomplete first run');

    // The next incremental run, with the shard readable again, generates exactly the missing documents.
    failShard = null;
    const second = (await client.workflow.execute('sptarPipeline', { taskQueue: TASK_QUEUES.orchestrator, workflowId: `${runName}-2`, args: [config] })) as PipelineResult;
    const regenerated: string[] = [];
    for (let i = 0; i < second.prepared.unlabeled.count; i++) {
      regenerated.push(...shardDocumentIds(new TextDecoder().decode(await store.get(shardDocumentsKey(second.prepared.unlabeled, i)))));
    }
    assert.deepEqual(regenerated.sort(), [...failedIds].sort());
    for (const w of second.weakData) assert.equal(w.shardsFailed, undefined);
    assert.equal(second.promotion?.promoted, true);

    // Replay fixtures (SPTAR_RECORD_HISTORIES=1): retriever stages, a waiting generation child with rejected and
    // accepted updates and a failed shard child, and the incremental run after it.
    recordHistory('pipeline-failed-shard-accepted', `${runName}-1`);
    recordHistory('generation-failed-shard-accepted', `${runName}-1/generate-sptar`);
    recordHistory('generation-failed-shard-child', `${runName}-1/generate-sptar/shard-${FAILING_SHARD}`);
    recordHistory('pipeline-incremental-after-missing-shards', `${runName}-2`);
  });
});
