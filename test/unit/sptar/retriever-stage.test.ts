import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ProgressUpdate } from '../../../common/activity-progress.ts';
import { pipelineConfigSchema, type PipelineConfigInput } from '../../../common/pipeline-config.ts';
import { stageConfigs } from '../../../common/stage-configs.ts';
import { loadEncoder, type LoadedEncoder } from '../../../lib/models/encoder-source.ts';
import { retrieverTrainingData, type CorpusTexts, type RetrieverTrainingData } from '../../../lib/sptar/retriever-data.ts';
import { trainRetrieverStage, type CheckpointPosition, type CheckpointStore, type TrainedEncoder, type TrainingPhaseName } from '../../../lib/sptar/retriever-stage.ts';
import { MINILM_TOKENIZER, skipUnlessInstalled } from '../../support/models.ts';

// Retriever training inside the stage function, on a tiny seeded BERT over the MiniLM vocabulary: 24 documents with
// four words of their own, two labeled queries each. A run is interrupted inside an epoch; the next run with the same
// checkpoint store must go on from the last step checkpoint and end where an uninterrupted run ends.
const WORDS = [
  'volcano lava eruption magma', 'penguin antarctic ice colony', 'violin orchestra melody strings', 'bakery bread flour oven',
  'satellite orbit rocket launch', 'hospital nurse patient surgery', 'desert camel sand dune', 'river bridge boat fishing',
  'chess king bishop tournament', 'garden tomato soil seeds', 'whale ocean dolphin coral', 'computer keyboard software memory',
  'football goal stadium referee', 'coffee espresso caffeine beans', 'wedding bride ceremony ring', 'library books shelf reading',
  'winter snow ski mountain', 'election vote ballot parliament', 'painting canvas brush museum', 'train railway station ticket',
  'pizza cheese dough slice', 'dinosaur fossil bones extinct', 'hurricane storm wind flood', 'bicycle wheel pedal helmet',
].map((w) => w.split(' '));

function syntheticData(config: ReturnType<typeof stageConfigs>['retriever'], weak: boolean): RetrieverTrainingData {
  const ids = WORDS.map((_, i) => `doc${i}`);
  const texts = WORDS.map(([a, b, c, d]) => `${a} ${b} A report on the ${a} and the ${b}, with notes about ${c} and ${d}.`);
  const corpus: CorpusTexts = { ids, texts, position: new Map(ids.map((id, i) => [id, i])) };
  const queryTexts = new Map<string, string>();
  const labeled = new Map<string, Map<string, number>>();
  WORDS.forEach(([a, b, c, d], i) => {
    queryTexts.set(`q${i}a`, `${a} ${b}`);
    queryTexts.set(`q${i}b`, `what about ${c} and ${d}`);
    labeled.set(`q${i}a`, new Map([[`doc${i}`, 1]]));
    labeled.set(`q${i}b`, new Map([[`doc${i}`, 1]]));
  });
  const weakGroup = { source: 'weak.jsonl', rows: WORDS.map(([, b, , d], i) => ({ query: `${b} near ${d}`, docId: `doc${i}`, rank: 1, line: i + 1 })) };
  return retrieverTrainingData(config, { corpus, queryTexts, labeled, weak: weak ? [weakGroup] : [], names: { labeled: 'labeled', queries: 'queries' } });
}

/** The artifact store's role in memory: the latest checkpoint of each phase, named as the store names them. */
function memoryCheckpoints(): CheckpointStore & { readonly saved: string[]; readonly latestName: (phase: TrainingPhaseName) => string | undefined } {
  const latest = new Map<TrainingPhaseName, { bytes: Uint8Array; source: string }>();
  const saved: string[] = [];
  const name = (phase: TrainingPhaseName, at: CheckpointPosition) => `${phase}/epoch-${at.epoch}${at.step === undefined ? '' : `-step-${at.step}`}`;
  return {
    saved,
    latestName: (phase) => latest.get(phase)?.source,
    async latest(phase) {
      const c = latest.get(phase);
      return c && { bytes: c.bytes.slice(), source: c.source };
    },
    async save(phase, at, bytes) {
      const source = name(phase, at);
      // A copy: the caller's buffers are not the store's.
      latest.set(phase, { bytes: bytes.slice(), source });
      saved.push(source);
      return source;
    },
    async clear(phase) {
      latest.delete(phase);
    },
  };
}

class WorkerLost extends Error {}

/** Heartbeats that count optimizer steps (one 'training' beat without a checkpoint per step) and may fail at one. */
function stepCounter(failAtStep?: number) {
  const beats: ProgressUpdate[] = [];
  let steps = 0;
  return {
    beats,
    steps: () => steps,
    heartbeat: (u: ProgressUpdate) => {
      beats.push(u);
      if (u.task !== 'training' || u.checkpoint !== undefined) return;
      steps++;
      // The beat of a step comes after its loss and gradients and before its update: the update is lost.
      if (steps === failAtStep) throw new WorkerLost(`worker lost at step ${steps}`);
    },
  };
}

function assertSameTraining(actual: TrainedEncoder, expected: TrainedEncoder): void {
  assert.deepEqual(actual.curve, expected.curve);
  assert.equal(actual.bestEpoch, expected.bestEpoch);
  assert.equal(actual.bestDevScore, expected.bestDevScore);
  assert.deepEqual(actual.dev, expected.dev);
  assert.deepEqual([...actual.weights.keys()], [...expected.weights.keys()]);
  let differing = 0;
  for (const [name, w] of expected.weights) {
    const a = actual.weights.get(name)!.data;
    const e = w.data;
    assert.equal(a.length, e.length, name);
    for (let i = 0; i < e.length; i++) if (!Object.is(a[i], e[i])) differing++;
  }
  // Bit for bit: the resumed run takes exactly the steps the uninterrupted one took, on the same weights and moments.
  assert.equal(differing, 0, `${differing} weights differ from the uninterrupted run's`);
}

describe('retriever training stage resumes inside an epoch (tiny BERT)', { skip: skipUnlessInstalled(MINILM_TOKENIZER) }, () => {
  let cacheDir: string;
  let base: LoadedEncoder;
  before(async () => {
    cacheDir = await mkdtemp(join(tmpdir(), 'sptar-retriever-stage-'));
    base = await loadEncoder({ kind: 'tiny', architecture: 'bert', seed: 7, tokenizer: MINILM_TOKENIZER });
  });
  after(() => rm(cacheDir, { recursive: true, force: true }));

  const configOf = (retriever: PipelineConfigInput['retriever']) =>
    stageConfigs(
      pipelineConfigSchema.parse({
        runName: 'stage-resume',
        seed: 13,
        encoder: { kind: 'tiny', architecture: 'bert', seed: 7 },
        retriever: { batchSize: 4, learningRate: 5e-2, maxSequenceLength: 32, ...retriever },
      }),
    ).retriever;

  it('a run interrupted mid-epoch goes on from its last step checkpoint to the uninterrupted weights, curve and epoch', async () => {
    const config = configOf({ epochs: 3, checkpointEverySteps: 3 });
    const data = syntheticData(config, false);
    // 48 labeled queries, 10 (20%) held out: 38 pairs with distinct queries and documents in pairs of two per
    // document, at batch 4 ceil(38 / 4) = 10 steps per epoch, or a few more when a document repeats in a batch.
    assert.equal(data.pairs.labeled.length, 38);

    const whole = stepCounter();
    const uninterrupted = await trainRetrieverStage(config, data, base, { heartbeat: whole.heartbeat, graphCacheDir: cacheDir, checkpoints: memoryCheckpoints() });
    const totalSteps = whole.steps();
    const perEpoch = whole.beats.filter((b) => b.task === 'training' && b.checkpoint === undefined).reduce((m, b) => m.set(b.epoch!, (m.get(b.epoch!) ?? 0) + 1), new Map<number, number>());
    assert.equal(perEpoch.size, 3);
    assert.equal(totalSteps, [...perEpoch.values()].reduce((a, b) => a + b, 0));
    const first = perEpoch.get(1)!;

    // First attempt: lost at step first + 5 (epoch 2, step 5): the last step checkpoint is epoch 2's step 3.
    const store = memoryCheckpoints();
    const lost = stepCounter(first + 5);
    await assert.rejects(trainRetrieverStage(config, data, base, { heartbeat: lost.heartbeat, graphCacheDir: cacheDir, checkpoints: store }), WorkerLost);
    assert.equal(store.latestName('mixed'), 'mixed/epoch-2-step-3');
    // Step checkpoints every 3 steps inside epoch 1 (none after its last step: the epoch checkpoint covers it).
    const inFirst = Array.from({ length: Math.ceil(first / 3) - 1 }, (_, i) => `mixed/epoch-1-step-${3 * (i + 1)}`);
    assert.deepEqual(store.saved, [...inFirst, 'mixed/epoch-1', 'mixed/epoch-2-step-3']);
    const checkpointBeat = lost.beats.filter((b) => b.checkpoint !== undefined).at(-1)!;
    assert.deepEqual({ checkpoint: checkpointBeat.checkpoint, done: checkpointBeat.done, epoch: checkpointBeat.epoch }, { checkpoint: 'mixed/epoch-2-step-3', done: first + 3, epoch: 2 });

    // Second attempt, same store: it performs only the steps after the checkpoint's, and its first beat counts them.
    const resumed = stepCounter();
    const result = await trainRetrieverStage(config, data, base, { heartbeat: resumed.heartbeat, graphCacheDir: cacheDir, checkpoints: store });
    assert.equal(resumed.steps(), totalSteps - (first + 3));
    const firstStep = resumed.beats.find((b) => b.task === 'training' && b.checkpoint === undefined)!;
    assert.deepEqual({ done: firstStep.done, epoch: firstStep.epoch }, { done: first + 4, epoch: 2 });
    assert.ok(!resumed.beats.some((b) => b.task === 'dev search of the starting encoder'), 'the starting encoder is not searched again');
    assertSameTraining(result, uninterrupted);
    assert.equal(store.latestName('mixed'), undefined, 'checkpoints are cleared once training is done');
  });

  it('resumes from a step checkpoint taken before any epoch was scored, and inside the labeled phase of weak-first', async () => {
    const config = configOf({ epochs: 2, weakSchedule: 'weak-first', weakEpochs: 1, checkpointEverySteps: 2 });
    const data = syntheticData(config, true);
    const whole = stepCounter();
    const uninterrupted = await trainRetrieverStage(config, data, base, { heartbeat: whole.heartbeat, graphCacheDir: cacheDir, checkpoints: memoryCheckpoints() });
    const weakSteps = whole.beats.filter((b) => b.task === 'training' && b.checkpoint === undefined && b.phase === 'weak').length;
    const labeledFirst = whole.beats.filter((b) => b.task === 'training' && b.checkpoint === undefined && b.phase === 'labeled' && b.epoch === 1).length;
    // 24 weak pairs at batch 4: 6 steps, all distinct.
    assert.equal(weakSteps, 6);

    const store = memoryCheckpoints();
    // Lost in the weak phase's only epoch after 5 steps: its step 4 checkpoint holds no selected epoch yet.
    await assert.rejects(trainRetrieverStage(config, data, base, { heartbeat: stepCounter(5).heartbeat, graphCacheDir: cacheDir, checkpoints: store }), WorkerLost);
    assert.equal(store.latestName('weak'), 'weak/epoch-1-step-4');
    // Lost again in the labeled phase's second epoch after 3 of its steps: its step 2 checkpoint is the latest.
    const again = stepCounter(weakSteps - 4 + labeledFirst + 3);
    await assert.rejects(trainRetrieverStage(config, data, base, { heartbeat: again.heartbeat, graphCacheDir: cacheDir, checkpoints: store }), WorkerLost);
    assert.equal(store.latestName('weak'), 'weak/epoch-1');
    assert.equal(store.latestName('labeled'), 'labeled/epoch-2-step-2');

    const resumed = stepCounter();
    const result = await trainRetrieverStage(config, data, base, { heartbeat: resumed.heartbeat, graphCacheDir: cacheDir, checkpoints: store });
    assert.equal(resumed.steps(), whole.steps() - (weakSteps + labeledFirst + 2));
    assert.ok(resumed.beats.every((b) => b.phase !== 'weak'), 'the finished weak phase is not trained again');
    assertSameTraining(result, uninterrupted);
    assert.equal(result.weakEpochs, 1);
  });
});
