// The frozen LLM as prompt tuning and the example filter see it: loss of a (prompt, target) token sequence with
// a soft prompt prepended in embedding space, and the exact gradient of that loss with respect to the prompt.
import type { DecoderConfig } from '../models/decoder-graphs.ts';
import { SOFT_PROMPT_NAMES } from '../models/decoder-graphs.ts';
import type { WeightMap, WeightTensor } from '../models/model-config.ts';
import { openSoftPromptLossSession, type SessionPlace } from '../models/model-sessions.ts';
import { hostTensor, type ModelSession } from '../onnx/session.ts';

/** One sequence: the template tokens, then the target tokens; the label mask is 1 on target positions only. */
export interface LossItem {
  readonly ids: readonly number[];
  readonly labelMask: readonly number[];
}

/** Template tokens followed by target tokens (query + EOS), labelled on the target only. */
export function lossItem(promptIds: readonly number[], targetIds: readonly number[]): LossItem {
  return { ids: [...promptIds, ...targetIds], labelMask: [...promptIds.map(() => 0), ...targetIds.map(() => 1)] };
}

/** The soft prompt initialised from the token embeddings of an init text, tiled to `length` rows. */
export function initialSoftPrompt(embeddings: WeightTensor, initIds: readonly number[], length: number): Float32Array {
  if (initIds.length === 0) throw new Error('the soft prompt init text produced no tokens');
  const [vocab, hidden] = embeddings.dims as [number, number];
  const out = new Float32Array(length * hidden);
  for (let r = 0; r < length; r++) {
    const id = initIds[r % initIds.length]!;
    if (id < 0 || id >= vocab) throw new Error(`init token id ${id} is outside the vocabulary (${vocab})`);
    out.set(embeddings.data.subarray(id * hidden, (id + 1) * hidden), r * hidden);
  }
  return out;
}

const int64 = (values: readonly number[]) => BigInt64Array.from(values, (v) => BigInt(v));

export class SoftPromptModel {
  private constructor(
    private readonly withGradient: ModelSession,
    private readonly lossOnly: ModelSession,
    readonly promptLength: number,
    readonly hiddenSize: number,
  ) {}

  static async open(weights: WeightMap, cfg: DecoderConfig, promptLength: number, place: SessionPlace = {}): Promise<SoftPromptModel> {
    const withGradient = await openSoftPromptLossSession(weights, cfg, { promptLength, gradient: true }, place);
    const lossOnly = await openSoftPromptLossSession(weights, cfg, { promptLength, gradient: false }, place);
    return new SoftPromptModel(withGradient, lossOnly, promptLength, cfg.hiddenSize);
  }

  private feeds(prompt: Float32Array, items: readonly LossItem[]) {
    if (prompt.length !== this.promptLength * this.hiddenSize) {
      throw new Error(`soft prompt has ${prompt.length} values, expected ${this.promptLength} x ${this.hiddenSize}`);
    }
    const n = Math.max(...items.map((i) => i.ids.length));
    const ids: number[] = [];
    const labels: number[] = [];
    const mask: number[] = [];
    for (const item of items) {
      if (item.ids.length !== item.labelMask.length) throw new Error('loss item ids and label mask differ in length');
      const pad = n - item.ids.length;
      // Right padding: causal attention never lets a real position see the padding after it.
      ids.push(...item.ids, ...new Array<number>(pad).fill(0));
      labels.push(...item.labelMask, ...new Array<number>(pad).fill(0));
      mask.push(...new Array<number>(this.promptLength + item.ids.length).fill(1), ...new Array<number>(pad).fill(0));
    }
    const b = items.length;
    return {
      [SOFT_PROMPT_NAMES.softPrompt]: hostTensor('float32', [this.promptLength, this.hiddenSize], prompt),
      [SOFT_PROMPT_NAMES.inputIds]: hostTensor('int64', [b, n], int64(ids)),
      [SOFT_PROMPT_NAMES.labelMask]: hostTensor('float32', [b, n], Float32Array.from(labels)),
      [SOFT_PROMPT_NAMES.attentionMask]: hostTensor('int64', [b, this.promptLength + n], int64(mask)),
    };
  }

  /** Mean cross-entropy over the item's target tokens and its gradient with respect to the soft prompt. */
  async lossAndGradient(prompt: Float32Array, item: LossItem): Promise<{ loss: number; gradient: Float32Array }> {
    const out = await this.withGradient.run(this.feeds(prompt, [item]), [SOFT_PROMPT_NAMES.loss, SOFT_PROMPT_NAMES.gradSoftPrompt]);
    const loss = out[SOFT_PROMPT_NAMES.loss]!.data as Float32Array;
    return { loss: loss[0]!, gradient: Float32Array.from(out[SOFT_PROMPT_NAMES.gradSoftPrompt]!.data as Float32Array) };
  }

  /** Mean over items of each item's mean target loss, evaluated `batchSize` items per run. */
  async meanLoss(prompt: Float32Array, items: readonly LossItem[], batchSize = 4): Promise<number> {
    if (items.length === 0) throw new Error('meanLoss needs at least one item');
    let sum = 0;
    for (let i = 0; i < items.length; i += batchSize) {
      const out = await this.lossOnly.run(this.feeds(prompt, items.slice(i, i + batchSize)), [SOFT_PROMPT_NAMES.lossSumPerExample, SOFT_PROMPT_NAMES.labelCountPerExample]);
      const sums = out[SOFT_PROMPT_NAMES.lossSumPerExample]!.data as Float32Array;
      const counts = out[SOFT_PROMPT_NAMES.labelCountPerExample]!.data as Float32Array;
      for (let j = 0; j < sums.length; j++) sum += sums[j]! / Math.max(1, counts[j]!);
    }
    return sum / items.length;
  }

  async release(): Promise<void> {
    await this.withGradient.release();
    await this.lossOnly.release();
  }
}
