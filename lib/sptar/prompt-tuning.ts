import { AdamW, linearSchedule, type AdamWState } from '../training/adamw.ts';

// Soft prompt tuning as the SPTAR authors run it: the LLM is frozen, only the l x hidden prompt is trained with
// AdamW (lr 3e-2, linear decay, no warm-up, batch 1); after each epoch the mean loss on S_eval decides early
// stopping (patience 6) and the best epoch's prompt is kept. The model is reached only through two functions, so
// this loop is the same for every architecture and is tested on small exact problems.

export interface PromptObjective<Example> {
  /** Loss on one training example and its exact gradient with respect to the prompt (same layout). */
  lossAndGradient(prompt: Float32Array, example: Example): Promise<{ loss: number; gradient: Float32Array }>;
  /** Mean loss over the evaluation set. */
  evalLoss(prompt: Float32Array, examples: readonly Example[]): Promise<number>;
}

export interface PromptTuningOptions {
  readonly learningRate: number;
  readonly maxEpochs: number;
  readonly patience: number;
  /** AdamW weight decay; the authors' PEFT setup uses 0 for the prompt. */
  readonly weightDecay?: number;
  /** Shuffles the training order each epoch (seeded). */
  readonly shuffle: (n: number, epoch: number) => number[];
}

/** Everything needed to resume after a crash: written at the end of each epoch. */
export interface PromptTuningCheckpoint {
  readonly epoch: number;
  readonly prompt: Float32Array;
  readonly optimizer: AdamWState;
  readonly best: { readonly epoch: number; readonly evalLoss: number; readonly prompt: Float32Array };
  readonly curve: readonly { readonly epoch: number; readonly trainLoss: number; readonly evalLoss: number }[];
  readonly epochsWithoutImprovement: number;
}

export interface PromptTuningResult {
  readonly bestEpoch: number;
  readonly bestEvalLoss: number;
  readonly prompt: Float32Array;
  readonly curve: PromptTuningCheckpoint['curve'];
  readonly stoppedEarly: boolean;
}

export async function tunePrompt<Example>(
  init: Float32Array,
  train: readonly Example[],
  evalSet: readonly Example[],
  objective: PromptObjective<Example>,
  options: PromptTuningOptions,
  hooks: { resumeFrom?: PromptTuningCheckpoint; onEpoch?: (c: PromptTuningCheckpoint) => Promise<void> } = {},
): Promise<PromptTuningResult> {
  if (train.length === 0) throw new Error('prompt tuning needs at least one training example');
  if (evalSet.length === 0) throw new Error('prompt tuning needs at least one evaluation example');
  const r = hooks.resumeFrom;
  const prompt = Float32Array.from(r?.prompt ?? init);
  const optimizer = new AdamW([prompt.length], { weightDecay: options.weightDecay ?? 0 }, r?.optimizer);
  let best = r?.best ?? { epoch: 0, evalLoss: await objective.evalLoss(prompt, evalSet), prompt: Float32Array.from(prompt) };
  const curve = [...(r?.curve ?? [{ epoch: 0, trainLoss: Number.NaN, evalLoss: best.evalLoss }])];
  let stale = r?.epochsWithoutImprovement ?? 0;
  const totalSteps = options.maxEpochs * train.length;

  for (let epoch = (r?.epoch ?? 0) + 1; epoch <= options.maxEpochs; epoch++) {
    if (stale >= options.patience) break;
    let sum = 0;
    for (const i of options.shuffle(train.length, epoch)) {
      const { loss, gradient } = await objective.lossAndGradient(prompt, train[i]!);
      sum += loss;
      const lr = linearSchedule(optimizer.state.step, totalSteps, 0, options.learningRate);
      optimizer.step([prompt], [gradient], lr);
    }
    const evalLoss = await objective.evalLoss(prompt, evalSet);
    curve.push({ epoch, trainLoss: sum / train.length, evalLoss });
    if (evalLoss < best.evalLoss) {
      best = { epoch, evalLoss, prompt: Float32Array.from(prompt) };
      stale = 0;
    } else {
      stale++;
    }
    await hooks.onEpoch?.({ epoch, prompt, optimizer: optimizer.state, best, curve, epochsWithoutImprovement: stale });
  }
  return { bestEpoch: best.epoch, bestEvalLoss: best.evalLoss, prompt: best.prompt, curve, stoppedEarly: stale >= options.patience };
}
