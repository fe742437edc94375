import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { before, describe, it } from 'node:test';
import type { ProgressUpdate } from '../../../common/activity-progress.ts';
import { CorruptArtifactError } from '../../../common/errors.ts';
import { pipelineConfigSchema, type PipelineConfig } from '../../../common/pipeline-config.ts';
import { loadLlm, tokenEmbeddings, type LoadedLlm } from '../../../lib/models/llm-source.ts';
import { createPrng } from '../../../lib/random/prng.ts';
import { sampleExampleGroups } from '../../../lib/sptar/example-groups.ts';
import type { LabeledData } from '../../../lib/sptar/labeled-data.ts';
import { promptTokenizer } from '../../../lib/sptar/prompt-limits.ts';
import { checkpointFromJson, checkpointJson, promptTuningCheckpointSchema } from '../../../lib/sptar/prompt-tuning-artifacts.ts';
import { tunePrompt, type PromptTuningCheckpoint } from '../../../lib/sptar/prompt-tuning.ts';
import {
  candidateGroups,
  epochOrder,
  examplePicker,
  initialPrompt,
  meanLossHeartbeating,
  promptTuningItems,
  scoreExampleGroupStage,
  tunePromptStage,
  type PromptLossModel,
} from '../../../lib/sptar/prompt-tuning-stage.ts';
import { initialSoftPrompt, type LossItem } from '../../../lib/sptar/soft-prompt-model.ts';
import type { ExamplePair } from '../../../lib/weak-data/index.ts';

const GPT2_TOKENIZER = fileURLToPath(new URL('../../../../shared/tokenizers/gpt2/tokenizer.json', import.meta.url));

const pairs = (n: number, tag: string): ExamplePair[] =>
  Array.from({ length: n }, (_, i) => ({ document: `${tag} document ${i} about ${'cells '.repeat(i % 4)}and proteins`, query: `${tag} query ${i}` }));
const data: LabeledData = { train: pairs(6, 'train'), evalPairs: pairs(3, 'eval') };

function configWith(overrides: { promptTuning?: Partial<PipelineConfig['promptTuning']>; groups?: number; seed?: number }): PipelineConfig {
  return pipelineConfigSchema.parse({
    seed: overrides.seed ?? 13,
    llm: { kind: 'tiny', architecture: 'llama', seed: 3, tokenizer: GPT2_TOKENIZER },
    promptTuning: { promptLength: 3, maxEpochs: 3, patience: 2, examplesPerPrompt: 2, evalBatchSize: 2, learningRate: 0.05, ...overrides.promptTuning },
    exampleFilter: { groups: overrides.groups ?? 4 },
  });
}

/** A quadratic stand-in for the LLM: each item pulls the prompt towards its own target value. */
function fakeModel(seen: LossItem[] = []): PromptLossModel {
  const target = (item: LossItem) => (item.ids.length % 7) / 10;
  const loss = (prompt: Float32Array, item: LossItem) => prompt.reduce((s, p) => s + (p - target(item)) ** 2, 0) / prompt.length;
  return {
    lossAndGradient: async (prompt, item) => {
      seen.push(item);
      return { loss: loss(prompt, item), gradient: prompt.map((p) => (2 * (p - target(item))) / prompt.length) };
    },
    meanLoss: async (prompt, items) => items.reduce((s, item) => s + loss(prompt, item), 0) / items.length,
  };
}

describe('prompt-tuning stage: seeded choices', () => {
  it('the epoch order is the Fisher-Yates shuffle the activity ran inline', () => {
    for (const seed of [13, 7, -2]) {
      for (const n of [0, 1, 2, 7, 50]) {
        for (let epoch = 1; epoch <= 4; epoch++) {
          const rng = createPrng(seed, `prompt-tuning/epoch-${epoch}`);
          const order = Array.from({ length: n }, (_, i) => i);
          for (let i = n - 1; i > 0; i--) {
            const j = rng.int(i + 1);
            [order[i], order[j]] = [order[j]!, order[i]!];
          }
          assert.deepEqual(epochOrder(seed, n, epoch), order);
        }
      }
    }
  });

  it("each item's examples are the activity's former seeded draws, never the item itself", () => {
    const pick = createPrng(13, 'prompt-tuning/examples');
    const former = (skip: number): ExamplePair[] => {
      const pool = data.train.map((_, i) => i).filter((i) => i !== skip);
      return sampleExampleGroups(pool.length, 1, Math.min(2, pool.length), pick.next)[0]!.map((j) => data.train[pool[j]!]!);
    };
    const examplesExcept = examplePicker(13, data.train, 2);
    for (const skip of [0, 1, 2, 3, 4, 5, -1, -1, -1]) {
      const got = examplesExcept(skip);
      assert.deepEqual(got, former(skip));
      if (skip >= 0) assert.ok(!got.includes(data.train[skip]!));
    }
    // M larger than the pool: every other pair.
    assert.equal(examplePicker(13, data.train.slice(0, 2), 5)(0).length, 1);
  });

  it('candidate groups come from their own seeded stream', () => {
    const config = configWith({ groups: 5 });
    const groups = candidateGroups(config, data.train.length);
    assert.deepEqual(groups, sampleExampleGroups(6, 5, 2, createPrng(13, 'example-filter/groups').next));
    assert.equal(groups.length, 5);
    assert.deepEqual(candidateGroups(config, data.train.length), groups);
    // Examples per prompt above the pool size: groups of the whole pool.
    assert.deepEqual(candidateGroups(configWith({ promptTuning: { examplesPerPrompt: 9 }, groups: 3 }), 2).map((g) => [...g].sort()), [[0, 1]]);
  });
});

describe('prompt-tuning stage on a tiny LLaMA (GPT-2 vocabulary) with a quadratic loss model', () => {
  let llm: LoadedLlm;
  before(async () => {
    llm = await loadLlm(configWith({}).llm);
  });

  it('training and eval items are the prompt layout of each pair after its examples', () => {
    const config = configWith({});
    const tokens = promptTokenizer(llm, config.promptTuning);
    const items = promptTuningItems(13, 2, data, tokens);
    const examplesExcept = examplePicker(13, data.train, 2);
    assert.deepEqual(items.train, data.train.map((p, i) => tokens.trainingItem(examplesExcept(i), p.document, p.query)));
    assert.deepEqual(items.eval, data.evalPairs.map((p) => tokens.trainingItem(examplesExcept(-1), p.document, p.query)));
  });

  it('the initial prompt is the init text tiled over the token embeddings', () => {
    const pt = configWith({}).promptTuning;
    const init = initialPrompt(llm, pt);
    assert.equal(init.length, pt.promptLength * llm.config.hiddenSize);
    assert.deepEqual(init, initialSoftPrompt(tokenEmbeddings(llm), llm.tokenizer.encode(pt.initText), pt.promptLength));
  });

  it('tunes in the seeded epoch order, heartbeats every step and checkpoints every epoch', async () => {
    const config = configWith({});
    const seen: LossItem[] = [];
    const beats: ProgressUpdate[] = [];
    const checkpoints: PromptTuningCheckpoint[] = [];
    const { prompt, record } = await tunePromptStage(config, data, llm, fakeModel(seen), {
      heartbeat: (d) => beats.push(d),
      onEpoch: async (c) => {
        checkpoints.push(checkpointFromJson(promptTuningCheckpointSchema.parse(JSON.parse(checkpointJson(c)))));
      },
    });
    const items = promptTuningItems(13, 2, data, promptTokenizer(llm, config.promptTuning));
    const expectedOrder = [1, 2, 3].flatMap((epoch) => epochOrder(13, items.train.length, epoch).map((i) => items.train[i]));
    assert.deepEqual(seen, expectedOrder);
    assert.equal(checkpoints.length, 3);
    // 3 S_eval pairs and 3 epochs: the initial S_eval pass, then each epoch's training items and S_eval pass.
    const total = 3 + 3 * (data.train.length + 3);
    assert.equal(beats.filter((b) => b.task === 'training').length, 3 * data.train.length);
    assert.deepEqual(beats[0], { stage: 'tune-prompt', task: 'S_eval loss of the initial prompt', unit: 'items', done: 0, total, epoch: 0, epochs: 3 });
    assert.deepEqual(beats.find((b) => b.task === 'training'), { stage: 'tune-prompt', task: 'training', unit: 'items', done: 4, total, epoch: 1, epochs: 3 });
    assert.deepEqual(beats.at(-1), { stage: 'tune-prompt', task: 'S_eval loss', unit: 'items', done: total, total, epoch: 3, epochs: 3 });
    assert.deepEqual(beats.map((b) => b.done), [...beats.map((b) => b.done)].sort((a, b) => a - b), 'done never goes back');
    assert.equal(record.promptLength, 3);
    assert.equal(record.hiddenSize, llm.config.hiddenSize);
    assert.equal(record.curve.length, 4);
    assert.equal(record.curve[0]!.trainLoss, null);
    assert.equal(record.initialEvalLoss, record.curve[0]!.evalLoss);
    assert.ok(record.bestEvalLoss < record.initialEvalLoss);
    assert.deepEqual(record.groups, candidateGroups(config, data.train.length));
    assert.equal(prompt.length, 3 * llm.config.hiddenSize);

    // Resuming from the stored first-epoch checkpoint ends where the uninterrupted run ended.
    const resumedBeats: ProgressUpdate[] = [];
    const resumed = await tunePromptStage(config, data, llm, fakeModel(), { heartbeat: (d) => resumedBeats.push(d), resumeFrom: checkpoints[0]! });
    // The resumed run starts where the first epoch ended: the initial pass and one epoch done.
    assert.deepEqual(resumedBeats[0], { stage: 'tune-prompt', task: 'training', unit: 'items', done: 3 + data.train.length + 3, total, epoch: 1, epochs: 3 });
    assert.equal(resumedBeats.at(-1)!.done, total);
    assert.deepEqual(resumed.prompt, prompt);
    assert.deepEqual(resumed.record, record);
  });

  it("gives the prompt and record the activity's former inline code gave", async () => {
    const config = configWith({ promptTuning: { maxEpochs: 4, patience: 1 } });
    const pt = config.promptTuning;
    // The former activity body, with the same model.
    const model = fakeModel();
    const tokens = promptTokenizer(llm, pt);
    const pick = createPrng(config.seed, 'prompt-tuning/examples');
    const examplesExcept = (skip: number): ExamplePair[] => {
      const pool = data.train.map((_, i) => i).filter((i) => i !== skip);
      return sampleExampleGroups(pool.length, 1, Math.min(pt.examplesPerPrompt, pool.length), pick.next)[0]!.map((j) => data.train[pool[j]!]!);
    };
    const trainItems = data.train.map((p, i) => tokens.trainingItem(examplesExcept(i), p.document, p.query));
    const evalItems = data.evalPairs.map((p) => tokens.trainingItem(examplesExcept(-1), p.document, p.query));
    const groups = sampleExampleGroups(data.train.length, config.exampleFilter.groups, Math.min(pt.examplesPerPrompt, data.train.length), createPrng(config.seed, 'example-filter/groups').next);
    const init = initialSoftPrompt(tokenEmbeddings(llm), llm.tokenizer.encode(pt.initText), pt.promptLength);
    const former = await tunePrompt(init, trainItems, evalItems, { lossAndGradient: (p, item) => model.lossAndGradient(p, item), evalLoss: (p, items) => meanLossHeartbeating(model, p, items, pt.evalBatchSize, () => undefined) }, {
      learningRate: pt.learningRate,
      maxEpochs: pt.maxEpochs,
      patience: pt.patience,
      shuffle: (n, epoch) => {
        const rng = createPrng(config.seed, `prompt-tuning/epoch-${epoch}`);
        const order = Array.from({ length: n }, (_, i) => i);
        for (let i = n - 1; i > 0; i--) {
          const j = rng.int(i + 1);
          [order[i], order[j]] = [order[j]!, order[i]!];
        }
        return order;
      },
    });
    const { prompt, record } = await tunePromptStage(config, data, llm, fakeModel(), { heartbeat: () => undefined });
    assert.deepEqual(prompt, former.prompt);
    assert.equal(record.bestEpoch, former.bestEpoch);
    assert.equal(record.bestEvalLoss, former.bestEvalLoss);
    assert.equal(record.stoppedEarly, former.stoppedEarly);
    assert.deepEqual(record.curve.map((c) => c.evalLoss), former.curve.map((c) => c.evalLoss));
    assert.deepEqual(record.groups, groups);
  });

  it("scores a group by the mean S_eval loss with the group's S_train pairs as the examples", async () => {
    const config = configWith({});
    const model = fakeModel();
    const prompt = initialPrompt(llm, config.promptTuning);
    const beats: ProgressUpdate[] = [];
    const scored = await scoreExampleGroupStage(config, data, llm, model, prompt, [4, 1], (d) => beats.push(d));
    assert.deepEqual(scored.group, [4, 1]);
    assert.deepEqual(scored.examples, [data.train[4], data.train[1]]);
    const tokens = promptTokenizer(llm, config.promptTuning);
    const items = data.evalPairs.map((p) => tokens.trainingItem(scored.examples, p.document, p.query));
    assert.equal(scored.loss, await model.meanLoss(prompt, items));
    assert.deepEqual(beats[0], { stage: 'filter-examples', subject: 'examples 4,1', task: 'S_eval loss', unit: 'items', done: 0, total: 3 });
    assert.deepEqual(beats.at(-1), { stage: 'filter-examples', subject: 'examples 4,1', task: 'S_eval loss', unit: 'items', done: 3, total: 3 });
    await assert.rejects(scoreExampleGroupStage(config, data, llm, model, prompt, [6], () => undefined), CorruptArtifactError);
  });
});

describe('meanLossHeartbeating', () => {
  it('equals the mean over all items whatever the batch size, with a beat per batch', async () => {
    const items: LossItem[] = [3, 5, 8, 9, 12].map((n) => ({ ids: new Array<number>(n).fill(1), labelMask: new Array<number>(n).fill(1) }));
    const model = fakeModel();
    const prompt = Float32Array.from([0.1, 0.4]);
    const all = await model.meanLoss(prompt, items);
    for (const batch of [1, 2, 5, 8]) {
      const beats: number[] = [];
      const mean = await meanLossHeartbeating(model, prompt, items, batch, (done) => beats.push(done));
      assert.ok(Math.abs(mean - all) < 1e-12);
      assert.equal(beats.length, Math.ceil(items.length / batch));
      assert.equal(beats.at(-1), items.length);
    }
  });
});
