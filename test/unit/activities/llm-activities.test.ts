// The prompt-tuning and example-group activities on a seeded tiny LLaMA: where they store, what they reuse, and
// that their keys keep the hash scheme of the stored runs.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { activityProgressSchema } from '../../../common/activity-progress.ts';
import { canonicalJson, exampleGroupScoreKey, promptTuningKeys, stageScopes } from '../../../common/artifact-keys.ts';
import { pipelineConfigSchema } from '../../../common/pipeline-config.ts';
import { preparedDataSchema, type PreparedData } from '../../../common/pipeline-stages.ts';
import { scoredExampleGroupSchema, softPromptRecordSchema } from '../../../common/prompt-tuning-types.ts';
import { stageConfigs } from '../../../common/stage-configs.ts';
import { createLlmActivities } from '../../../activities/llm-activities.ts';
import { LocalArtifactStore } from '../../../lib/artifact-store/index.ts';
import { float32FromBytes } from '../../../lib/sptar/prompt-tuning-artifacts.ts';
import { TEST_DATA_ROOTS } from '../../support/data-roots.ts';

const GPT2_TOKENIZER = fileURLToPath(new URL('../../../../shared/tokenizers/gpt2/tokenizer.json', import.meta.url));
const config = pipelineConfigSchema.parse({
  seed: 5,
  llm: { kind: 'tiny', architecture: 'llama', seed: 3, tokenizer: GPT2_TOKENIZER },
  promptTuning: { promptLength: 2, maxEpochs: 1, patience: 1, examplesPerPrompt: 1, evalBatchSize: 2, maxDocumentWords: 8, maxQueryWords: 4 },
  exampleFilter: { groups: 2 },
});
const slices = stageConfigs(config);
const jsonl = (rows: readonly object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
const qrels = (rows: readonly [string, string][]) => ['query-id\tcorpus-id\tscore', ...rows.map(([q, d]) => `${q}\t${d}\t1`)].join('\n') + '\n';
const text = (bytes: Uint8Array): unknown => JSON.parse(new TextDecoder().decode(bytes));

/** The hash scheme the stored runs were keyed with (node:crypto, before the keys moved to common/). */
function formerKey(scope: string, stage: string, slice: unknown, inputs: readonly { sha256: string }[], name: string): string {
  const h = createHash('sha256');
  h.update(`${stage}@1\n`);
  h.update(canonicalJson(slice));
  for (const ref of inputs) h.update(`\n${ref.sha256}`);
  return `${scope}/${stage}/${h.digest('hex').slice(0, 16)}/${name}`;
}

describe('LLM activities on a tiny LLaMA', () => {
  let dir: string;
  let store: LocalArtifactStore;
  let prepared: PreparedData;
  const llm = () => createLlmActivities({ store, dataRoots: TEST_DATA_ROOTS });
  const run = <I, O>(fn: (input: I) => Promise<O>, input: I) => new MockActivityEnvironment().run(fn, input) as Promise<O>;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sptar-llm-act-'));
    store = new LocalArtifactStore(dir);
    const corpus = await store.put(
      'p/corpus.jsonl',
      jsonl([
        { _id: 'd1', title: 'Folding', text: 'protein folding in the cell' },
        { _id: 'd2', title: '', text: 'vitamin D and bone density' },
        { _id: 'd3', title: 'Sleep', text: 'short sleep and obesity' },
        { _id: 'd4', title: 'Statins', text: 'statins lower cholesterol' },
      ]),
    );
    const queries = await store.put('p/queries.jsonl', jsonl([{ _id: 'q1', text: 'protein folding' }, { _id: 'q2', text: 'vitamin D' }, { _id: 'q3', text: 'sleep weight' }, { _id: 'q4', text: 'statins' }]));
    const sTrain = await store.put('p/s-train.tsv', qrels([['q1', 'd1'], ['q2', 'd2'], ['q4', 'd4']]));
    const sEval = await store.put('p/s-eval.tsv', qrels([['q3', 'd3']]));
    const empty = await store.put('p/empty.tsv', '');
    prepared = preparedDataSchema.parse({
      datasetFingerprint: 'f'.repeat(64),
      corpus,
      queries,
      sTrain,
      sEval,
      testQrels: empty,
      unlabeled: { prefix: 'p/unlabeled', count: 0, documents: 0 },
      docHashes: empty,
      rejects: null,
      counts: { documents: 4, queries: 4, sTrainPairs: 3, sEvalQueries: 1, testQueries: 0, unlabeledDocuments: 0, unchangedSinceLastRun: 0, rejectedRows: 0 },
    });
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('tunePrompt stores prompt, record and checkpoint under the stage keys, and reuses a finished run', async () => {
    const acts = llm();
    const env = new MockActivityEnvironment();
    const beats: [string, number, number][] = [];
    env.on('heartbeat', (d: unknown) => {
      const r = activityProgressSchema.parse(d);
      const last = beats.at(-1);
      // The heartbeat clock re-sends the latest record when a step takes long: the same record twice is one beat.
      if (!last || last[0] !== r.task || last[1] !== r.done || last[2] !== r.total) beats.push([r.task, r.done, r.total]);
    });
    const tuned = (await env.run(acts.tunePrompt, { config: slices.promptTuning, scope: 'run', prepared })) as Awaited<ReturnType<typeof acts.tunePrompt>>;
    // One S_eval pair and three S_train pairs, one epoch: 1 + (3 + 1) loss items, each heartbeat a progress record.
    assert.deepEqual(beats, [
      ['loading the LLM', 0, 5],
      ['building the loss graphs', 0, 5],
      ['S_eval loss of the initial prompt', 0, 5],
      ['S_eval loss of the initial prompt', 1, 5],
      ['training', 2, 5],
      ['training', 3, 5],
      ['training', 4, 5],
      ['S_eval loss', 5, 5],
    ]);
    const keys = promptTuningKeys(stageScopes.tunePrompt('run', slices.promptTuning, prepared));
    const slice = { llm: config.llm, promptTuning: config.promptTuning, seed: config.seed, groups: config.exampleFilter.groups };
    assert.equal(keys.record, formerKey('run', 'tune-prompt', slice, [prepared.sTrain, prepared.sEval, prepared.corpus], 'soft-prompt.json'));
    assert.equal(tuned.record.key, keys.record);
    assert.equal(tuned.prompt.key, keys.prompt);
    assert.ok(await store.stat(keys.checkpoint));
    const record = softPromptRecordSchema.parse(text(await store.get(tuned.record)));
    assert.equal(record.curve.length, 2);
    assert.equal(float32FromBytes(await store.get(tuned.prompt)).length, 2 * record.hiddenSize);
    assert.deepEqual(tuned.groups, record.groups);
    assert.equal(tuned.groups.length, 2);

    // A whole config hashes as its slice; a stored run (here with a marked record) is returned as stored.
    await store.put(keys.record, JSON.stringify({ ...record, bestEvalLoss: 123 }));
    const again = await run(acts.tunePrompt, { config, scope: 'run', prepared });
    assert.equal(again.bestEvalLoss, 123);
    assert.equal(again.prompt.key, tuned.prompt.key);
    await acts.releaseModels();
  });

  it('scoreExampleGroup stores its score under the stage key and reuses it; without a scope it stores nothing', async () => {
    const acts = llm();
    const tuned = await run(acts.tunePrompt, { config: slices.promptTuning, scope: 'run', prepared });
    const group = tuned.groups[0]!;
    const key = exampleGroupScoreKey(stageScopes.exampleGroup('run', slices.exampleGroup, prepared, tuned.prompt, group));
    const slice = { llm: config.llm, promptTuning: config.promptTuning, group };
    assert.equal(key, formerKey('run', 'example-group', slice, [tuned.prompt, prepared.sTrain, prepared.sEval, prepared.corpus, prepared.queries], 'score.json'));

    const unscoped = await run(acts.scoreExampleGroup, { config: slices.exampleGroup, prepared, prompt: tuned.prompt, group });
    assert.equal(await store.stat(key), undefined);
    const scored = await run(acts.scoreExampleGroup, { config: slices.exampleGroup, scope: 'run', prepared, prompt: tuned.prompt, group });
    assert.deepEqual(scored, unscoped);
    assert.ok(Number.isFinite(scored.loss));
    assert.deepEqual(scoredExampleGroupSchema.parse(text(await store.get(key))), scored);

    await store.put(key, JSON.stringify({ ...scored, loss: 42 }));
    assert.equal((await run(acts.scoreExampleGroup, { config: slices.exampleGroup, scope: 'run', prepared, prompt: tuned.prompt, group })).loss, 42);
    await store.put(key, JSON.stringify({ group }));
    await assert.rejects(run(acts.scoreExampleGroup, { config: slices.exampleGroup, scope: 'run', prepared, prompt: tuned.prompt, group }), { name: 'CorruptArtifactError' });
    await acts.releaseModels();
  });
});
