// The whole pipeline through Temporal with seeded tiny models on a small SciFact slice: every LLM stage runs for
// real (prompt tuning with exact gradients, parallel example-group scoring, sharded generation with the BM25
// filter, InPars-style baseline) and leaves its artifacts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { ActivityProgress } from '../../common/activity-progress.ts';
import { createArtifactStore } from '../../lib/artifact-store/index.ts';
import { scoredExampleGroupSchema, softPromptRecordSchema } from '../../common/prompt-tuning-types.ts';
import type { PipelineProgress, Stage } from '../../common/pipeline-stages.ts';
import { trainedRetrieverSchema, weakPairRowSchema } from '../../common/retriever-types.ts';
import { TASK_QUEUES } from '../../common/task-queues.ts';
import type { PipelineResult } from '../../workflows/pipeline-workflow.ts';
import { runSnapshot } from '../../workers/run-progress.ts';
import { createModelWorker, createOrchestratorWorker } from '../../workers/worker.ts';
import { startWorkers, type LiveWorkers } from '../support/live-workers.ts';
import { serviceSettings } from '../support/services.ts';
import { TINY_PIPELINE_CONFIG } from '../support/tiny-pipeline-config.ts';

const settings = serviceSettings();
const store = createArtifactStore(settings.store);


describe('pipeline with tiny models (real services)', () => {
  let live: LiveWorkers;
  let client: Client;

  before(async () => {
    live = await startWorkers(async (nc) => [await createOrchestratorWorker(nc, settings), await createModelWorker(nc, settings)]);
    client = live.client;
  });
  after(() => live.stop());

  it('tunes the prompt, filters example groups, generates and filters weak queries for every unlabeled document', async () => {
    const runName = `test-tiny-${Date.now()}`;
    const handle = await client.workflow.start('sptarPipeline', {
      taskQueue: TASK_QUEUES.orchestrator,
      workflowId: runName,
      args: [{ ...TINY_PIPELINE_CONFIG, runName }],
    });
    // What the CLI reads while the run goes: the progress query and the pending activities' heartbeats.
    const records: { stage: Stage; record: ActivityProgress }[] = [];
    let polling = true;
    const poll = (async () => {
      while (polling) {
        const s = await runSnapshot(client, runName).catch(() => undefined);
        for (const a of s?.activities ?? []) if (a.progress) records.push({ stage: s!.progress.stage, record: a.progress });
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    const result = (await handle.result()) as PipelineResult;
    polling = false;
    await poll;
    assert.equal(result.prepared.counts.unlabeledDocuments, 30);
    assert.equal(result.prepared.unlabeled.count, 4);

    const progress = await handle.query<PipelineProgress>('progress');
    assert.deepEqual(progress.stagesDone, ['prepare', 'bm25', 'tune-prompt', 'filter-examples', 'generate-sptar', 'generate-inpars', 'train-retrievers', 'evaluate', 'report']);
    assert.equal(progress.exampleGroupLosses?.length, 3);
    assert.ok(progress.promptTuning && progress.promptTuning.bestEvalLoss <= progress.promptTuning.initialEvalLoss);
    assert.deepEqual(progress.plan, progress.stagesDone);
    assert.equal(progress.reportHtmlKey, result.reportHtmlKey);
    const plan = progress.plan!;

    // The long model activities heartbeat progress records (how many polls catch one depends on the machine's
    // speed; tiny models finish most activities within seconds). The query and the description are read
    // together, so a record may come from the stage just left.
    assert.ok(records.length > 0, 'no progress record seen in the pending activities');
    for (const { stage, record } of records) {
      assert.ok(['tune-prompt', 'filter-examples', 'train-retrievers', 'evaluate'].includes(record.stage), `a ${record.stage} record`);
      assert.ok(plan.indexOf(record.stage) <= plan.indexOf(stage) && plan.indexOf(record.stage) >= plan.indexOf(stage) - 1, `${record.stage} record during stage ${stage}`);
      assert.ok(record.done <= record.total, `${record.stage} ${record.task}: ${record.done}/${record.total}`);
    }

    // SptarProgress: at each stage, and inside a stage of several activities after each of them (3 groups,
    // 3 retrievers, 4 evaluated systems).
    const history = await handle.fetchHistory();
    const values = (history.events ?? []).flatMap((e) => {
      const field = e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.['SptarProgress'];
      return field ? [defaultPayloadConverter.fromPayload<number>(field)] : [];
    });
    const activitiesOf: Partial<Record<Stage, number>> = { 'filter-examples': 3, 'train-retrievers': 3, evaluate: 4 };
    const expected: number[] = [];
    for (let i = 0; i <= plan.length; i++) {
      expected.push(Math.min(1, i / plan.length));
      const tasks = i < plan.length ? (activitiesOf[plan[i]!] ?? 0) : 0;
      for (let k = 1; k <= tasks; k++) expected.push(Math.min(1, (i + k / tasks) / plan.length));
    }
    assert.deepEqual(values, expected);

    // Every unlabeled document got exactly one weak query or one recorded failure, in both generation runs.
    assert.deepEqual(result.weakData.map((w) => w.system), ['sptar', 'inpars']);
    for (const w of result.weakData) {
      assert.equal(w.generated + w.failed, 30, `${w.system}: ${w.generated} + ${w.failed}`);
      assert.ok(w.kept <= w.generated);
      const kept = new TextDecoder().decode(await store.get(w.keptPairs)).split('\n').filter(Boolean);
      assert.equal(kept.length, w.kept);
      for (const line of kept) {
        const row = weakPairRowSchema.parse(JSON.parse(line));
        assert.ok(row.rank <= 70 && row.queryId === `weak-${row.docId}`);
      }
    }

    // The tuned prompt and its record are stored; the report lists BM25.
    const recordKey = (await store.list(`${runName}/tune-prompt/`)).find((k) => k.endsWith('soft-prompt.json'));
    assert.ok(recordKey);
    const record = softPromptRecordSchema.parse(JSON.parse(new TextDecoder().decode(await store.get(recordKey))));
    assert.equal(record.curve.length, 3); // epoch 0 + 2 epochs
    assert.equal(record.groups.length, 3);
    // Each candidate group's score is stored for reuse, with the loss the workflow compared.
    const scoreKeys = (await store.list(`${runName}/example-group/`)).filter((k) => k.endsWith('/score.json'));
    assert.equal(scoreKeys.length, 3);
    const stored = await Promise.all(scoreKeys.map(async (k) => scoredExampleGroupSchema.parse(JSON.parse(new TextDecoder().decode(await store.get(k))))));
    const byGroup = (g: readonly number[]) => stored.find((s) => s.group.join() === g.join())!;
    record.groups.forEach((g, i) => {
      assert.equal(byGroup(g).loss, progress.exampleGroupLosses![i]);
      assert.equal(byGroup(g).examples.length, g.length);
    });
    // Three retrievers trained (W/O on labeled pairs only, InPars and SPTAR with their kept weak pairs), each
    // with a dev curve from epoch 0 (the starting encoder) to 2; five systems evaluated on the same test queries.
    assert.deepEqual(result.retrievers.map((r) => r.system), ['wo', 'inpars', 'sptar']);
    const sptarWeak = result.weakData.find((w) => w.system === 'sptar')!;
    for (const r of result.retrievers) {
      assert.deepEqual(r.curve.map((p) => p.epoch), [0, 1, 2]);
      assert.equal(r.counts.weakPairs, r.system === 'wo' ? 0 : result.weakData.find((w) => w.system === r.system)!.kept);
      assert.ok((await store.stat(r.encoder.key))?.sha256 === r.encoder.sha256);
    }
    assert.ok(result.retrievers[2]!.counts.weakPairs === sptarWeak.kept);
    assert.deepEqual(result.evaluations.map((e) => e.system), ['bm25', 'zero-shot', 'wo', 'inpars', 'sptar']);
    for (const e of result.evaluations) assert.equal(e.metrics.queries, result.prepared.counts.testQueries);
    // First run of this name: its retriever is promoted.
    assert.equal(result.promotion?.promoted, true);
    assert.equal(result.promotion?.incumbent, null);
    const report = new TextDecoder().decode(await store.get(result.reportKey));
    for (const name of ['BM25', 'Zero-shot encoder', 'W/O (labeled pairs only)', 'InPars-style', 'SPTAR']) assert.match(report, new RegExp(`\\| ${name.replace(/[()/]/g, '\\$&')} \\|`));
  });

  it('with the retriever levers on: replicates over seeds, hybrids, S_eval as dev, hard negatives and weak filters', async () => {
    const runName = `test-tiny-levers-${Date.now()}`;
    const config = {
      ...TINY_PIPELINE_CONFIG,
      runName,
      weakFilter: { topK: 70, maxSpanShare: 0.9, denseTopK: 200 },
      retriever: { ...TINY_PIPELINE_CONFIG.retriever, devQueries: 's-eval', devCorpusSize: 100, devCandidates: 5, hardNegatives: 1, seeds: 2, hybrid: true },
    };
    const handle = await client.workflow.start('sptarPipeline', { taskQueue: TASK_QUEUES.orchestrator, workflowId: runName, args: [config] });
    const result = (await handle.result()) as PipelineResult;
    // Every system twice (replicate 0 with the seed, 1 with seed + 1), in the order they were scheduled.
    assert.deepEqual(
      result.retrievers.map((r) => `${r.system}/${r.replicate ?? 0}`),
      ['wo/0', 'inpars/0', 'sptar/0', 'wo/1', 'inpars/1', 'sptar/1'],
    );
    const full = await Promise.all(result.retrievers.map(async (r) => trainedRetrieverSchema.parse(JSON.parse(new TextDecoder().decode(await store.get(r.encoder.key.replace(/encoder\/model\.safetensors$/, 'result.json')))))));
    for (const r of full) {
      // S_eval's 4 queries select; S_train's 6 pairs are the labeled training data.
      assert.equal(r.counts.devQueries, 4);
      assert.equal(r.counts.labeledPairs, 6);
      assert.equal(r.dev?.queryIds.length, 4);
      assert.ok(r.dev?.fusion !== undefined, 'a fusion weight was chosen on dev');
      assert.ok(r.negatives !== undefined, 'mined negatives are stored');
      if (r.system !== 'wo') assert.ok(r.weakFilters && r.weakFilters.afterDenseRoundTrip <= r.weakFilters.bm25Kept);
    }
    // Replicates start from the same encoder on the same dev split: the same epoch-0 dev score.
    assert.equal(full[3]!.curve[0]!.devScore, full[0]!.curve[0]!.devScore);
    assert.deepEqual(
      result.evaluations.map((e) => `${e.system}${e.hybrid ? '+bm25' : ''}/${e.replicate ?? 0}`),
      ['bm25/0', 'zero-shot/0', 'wo/0', 'inpars/0', 'sptar/0', 'wo/1', 'inpars/1', 'sptar/1', 'wo+bm25/0', 'inpars+bm25/0', 'sptar+bm25/0', 'wo+bm25/1', 'inpars+bm25/1', 'sptar+bm25/1'],
    );
    assert.equal(result.promotion?.promoted, true);
    assert.equal(result.promotion?.candidate.system, 'sptar');
    assert.equal(result.promotion?.reason, 'no retriever in service yet');
    const report = new TextDecoder().decode(await store.get(result.reportKey));
    assert.match(report, /\| SPTAR \+ BM25 hybrid \|/);
    assert.match(report, /Dev-test agreement: Spearman/);
  });
});
