// The prompt-tuning stage and the example filter's scoring, as pure functions of their config slice, the labeled
// pairs, the loaded LLM and its soft-prompt loss model. Every random choice is seeded from `config.seed` on its own
// stream: each item's examples, the candidate groups and each epoch's training order. The activity loads the inputs,
// calls these and stores the outputs; a benchmark calls the same functions.
import type { ProgressBeat, ProgressUpdate } from '../../common/activity-progress.ts';
import type { ScoredExampleGroup, SoftPromptRecord } from '../../common/prompt-tuning-types.ts';
import type { ExampleGroupConfig, PromptTuningConfig } from '../../common/stage-configs.ts';
import { tokenEmbeddings, type LoadedLlm } from '../models/llm-source.ts';
import { createPrng, shuffledIndices } from '../random/prng.ts';
import type { ExamplePair } from '../weak-data/index.ts';
import { sampleExampleGroups } from './example-groups.ts';
import { groupExamples, type LabeledData } from './labeled-data.ts';
import { promptTokenizer } from './prompt-limits.ts';
import type { PromptTokenizer } from './prompt-tokens.ts';
import { tunePrompt, type PromptTuningCheckpoint } from './prompt-tuning.ts';
import { initialSoftPrompt, type LossItem, type SoftPromptModel } from './soft-prompt-model.ts';

/** What the stages need of the frozen LLM with a soft prompt: one item's loss and gradient, a batch's mean loss. */
export type PromptLossModel = Pick<SoftPromptModel, 'lossAndGradient' | 'meanLoss'>;

export interface PromptTuningHooks {
  /** Progress for the activity's heartbeats (a step of prompt tuning runs for seconds, an S_eval pass for minutes). */
  readonly heartbeat: ProgressBeat;
  /** The last epoch checkpoint of an interrupted run with the same inputs. */
  readonly resumeFrom?: PromptTuningCheckpoint;
  /** Called at the end of every epoch, e.g. to store the checkpoint. */
  readonly onEpoch?: (c: PromptTuningCheckpoint) => Promise<void>;
}

/**
 * `examplesExcept(skip)`: M S_train pairs other than pair `skip` (-1: any), each call the next seeded draw. Each
 * training item sees M other S_train pairs as its examples, each eval item M S_train pairs.
 */
export function examplePicker(seed: number, train: readonly ExamplePair[], examplesPerPrompt: number): (skip: number) => ExamplePair[] {
  const pick = createPrng(seed, 'prompt-tuning/examples');
  return (skip) => {
    const pool = train.map((_, i) => i).filter((i) => i !== skip);
    return sampleExampleGroups(pool.length, 1, Math.min(examplesPerPrompt, pool.length), pick.next)[0]!.map((j) => train[pool[j]!]!);
  };
}

/** The training and eval loss items: every S_train pair with other pairs as examples, every S_eval pair with S_train examples. */
export function promptTuningItems(seed: number, examplesPerPrompt: number, data: LabeledData, tokens: PromptTokenizer): { readonly train: LossItem[]; readonly eval: LossItem[] } {
  const examplesExcept = examplePicker(seed, data.train, examplesPerPrompt);
  const train = data.train.map((p, i) => tokens.trainingItem(examplesExcept(i), p.document, p.query));
  const evalItems = data.evalPairs.map((p) => tokens.trainingItem(examplesExcept(-1), p.document, p.query));
  return { train, eval: evalItems };
}

/** The filter's G candidate groups of M indices into S_train (fewer when fewer distinct ones exist). */
export function candidateGroups(config: Pick<PromptTuningConfig, 'seed' | 'promptTuning' | 'exampleFilter'>, trainPairs: number): number[][] {
  const perGroup = Math.min(config.promptTuning.examplesPerPrompt, trainPairs);
  return sampleExampleGroups(trainPairs, config.exampleFilter.groups, perGroup, createPrng(config.seed, 'example-filter/groups').next);
}

/** The seeded training order of one epoch. */
export function epochOrder(seed: number, n: number, epoch: number): number[] {
  return shuffledIndices(n, createPrng(seed, `prompt-tuning/epoch-${epoch}`));
}

/** The untuned soft prompt: the init text's token embeddings tiled to the prompt length (tuning's starting point). */
export function initialPrompt(llm: LoadedLlm, settings: Pick<PromptTuningConfig['promptTuning'], 'initText' | 'promptLength'>): Float32Array {
  return initialSoftPrompt(tokenEmbeddings(llm), llm.tokenizer.encode(settings.initText), settings.promptLength);
}

/**
 * The mean S_eval loss, one batch per run with a beat after each: a whole S_eval pass takes minutes on a busy
 * worker, longer than the heartbeat timeout. Same value as `meanLoss` over all items (a mean of per-item means).
 */
export async function meanLossHeartbeating(model: PromptLossModel, prompt: Float32Array, items: readonly LossItem[], batchSize: number, beat: (done: number) => void): Promise<number> {
  let sum = 0;
  for (let i = 0; i < items.length; i += batchSize) {
    const batch = items.slice(i, i + batchSize);
    sum += (await model.meanLoss(prompt, batch, batchSize)) * batch.length;
    beat(i + batch.length);
  }
  return sum / items.length;
}

/**
 * Where prompt tuning stands in loss items (a training step is one item, an S_eval pass one per eval pair): the
 * initial S_eval pass, then every epoch's training items and S_eval pass, up to `maxEpochs` (early stopping may end
 * it sooner). A run resumed after `resumedEpochs` epochs has done those.
 */
export function promptTuningWork(maxEpochs: number, trainItems: number, evalItems: number, resumedEpochs = 0): Pick<ProgressUpdate, 'done' | 'total' | 'epoch' | 'epochs'> {
  const perEpoch = trainItems + evalItems;
  return { done: resumedEpochs === 0 ? 0 : evalItems + resumedEpochs * perEpoch, total: evalItems + maxEpochs * perEpoch, epoch: resumedEpochs, epochs: maxEpochs };
}

/** Soft prompt tuning on S_train with early stopping on S_eval: the best epoch's prompt and the record stored beside it. */
export async function tunePromptStage(
  config: PromptTuningConfig,
  data: LabeledData,
  llm: LoadedLlm,
  model: PromptLossModel,
  hooks: PromptTuningHooks,
): Promise<{ readonly prompt: Float32Array; readonly record: SoftPromptRecord }> {
  const pt = config.promptTuning;
  const items = promptTuningItems(config.seed, pt.examplesPerPrompt, data, promptTokenizer(llm, pt));
  const groups = candidateGroups(config, data.train.length);
  const work = promptTuningWork(pt.maxEpochs, items.train.length, items.eval.length, hooks.resumeFrom?.epoch ?? 0);
  let done = work.done;
  let epoch = work.epoch ?? 0;
  const beat = (task: string): void => hooks.heartbeat({ stage: 'tune-prompt', task, unit: 'items', done, total: work.total, epoch, epochs: pt.maxEpochs });
  const evalTask = () => (epoch === 0 ? 'S_eval loss of the initial prompt' : 'S_eval loss');
  beat(epoch === 0 ? evalTask() : 'training');
  const result = await tunePrompt(
    initialPrompt(llm, pt),
    items.train,
    items.eval,
    {
      lossAndGradient: async (prompt, item) => {
        const r = await model.lossAndGradient(prompt, item);
        done++;
        beat('training');
        return r;
      },
      evalLoss: (prompt, evalItems) => {
        const start = done;
        return meanLossHeartbeating(model, prompt, evalItems, pt.evalBatchSize, (n) => {
          done = start + n;
          beat(evalTask());
        });
      },
    },
    {
      learningRate: pt.learningRate,
      maxEpochs: pt.maxEpochs,
      patience: pt.patience,
      shuffle: (n, e) => {
        epoch = e;
        return epochOrder(config.seed, n, e);
      },
    },
    { ...(hooks.resumeFrom ? { resumeFrom: hooks.resumeFrom } : {}), ...(hooks.onEpoch ? { onEpoch: hooks.onEpoch } : {}) },
  );
  const record: SoftPromptRecord = {
    promptLength: pt.promptLength,
    hiddenSize: llm.config.hiddenSize,
    bestEpoch: result.bestEpoch,
    bestEvalLoss: result.bestEvalLoss,
    initialEvalLoss: result.curve[0]!.evalLoss,
    stoppedEarly: result.stoppedEarly,
    curve: result.curve.map((c) => ({ epoch: c.epoch, trainLoss: Number.isFinite(c.trainLoss) ? c.trainLoss : null, evalLoss: c.evalLoss })),
    groups,
  };
  return { prompt: result.prompt, record };
}

/** One candidate group's mean S_eval loss with the tuned prompt fixed and the group's S_train pairs as the examples. */
export async function scoreExampleGroupStage(
  config: ExampleGroupConfig,
  data: LabeledData,
  llm: LoadedLlm,
  model: PromptLossModel,
  prompt: Float32Array,
  group: readonly number[],
  heartbeat: ProgressBeat,
): Promise<ScoredExampleGroup> {
  const examples = groupExamples(data.train, group);
  const tokens = promptTokenizer(llm, config.promptTuning);
  const items = data.evalPairs.map((p) => tokens.trainingItem(examples, p.document, p.query));
  const beat = (done: number): void => heartbeat({ stage: 'filter-examples', subject: `examples ${group.join(',')}`, task: 'S_eval loss', unit: 'items', done, total: items.length });
  beat(0);
  const loss = await meanLossHeartbeating(model, prompt, items, config.promptTuning.evalBatchSize, beat);
  return { group: [...group], loss, examples };
}
