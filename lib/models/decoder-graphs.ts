// The decoder graphs the pipeline runs, for either decoder architecture: one generation step with a key/value
// cache, token-id -> embedding lookup, and the causal-LM loss over labelled positions after a trainable soft
// prompt (optionally with its exact gradient).
import { appendGradients } from '../onnx/autodiff.ts';
import { GraphBuilder, type Value } from '../onnx/graph-builder.ts';
import * as layers from '../onnx/layers.ts';
import * as op from '../onnx/ops.ts';
import type { DecoderInputs, KeyValue } from './decoder-types.ts';
import { gpt2Hidden, gpt2Logits, gpt2Prefix } from './gpt2.ts';
import { llamaEmbeddingName, llamaHidden, llamaLogits } from './llama.ts';
import type { Gpt2Config, LlamaConfig, WeightMap } from './model-config.ts';
import { initializerWeights, type FloatType, type WeightSource } from './weight-source.ts';

export type DecoderConfig = LlamaConfig | Gpt2Config;

/** Graph input and output names of the decoder step graph (the names transformers.js/optimum exports use). */
export const DECODER_NAMES = {
  inputsEmbeds: 'inputs_embeds',
  attentionMask: 'attention_mask',
  positionIds: 'position_ids',
  logits: 'logits',
  pastKey: (layer: number) => `past_key_values.${layer}.key`,
  pastValue: (layer: number) => `past_key_values.${layer}.value`,
  presentKey: (layer: number) => `present.${layer}.key`,
  presentValue: (layer: number) => `present.${layer}.value`,
  prefixKey: (layer: number) => `prefix_key_values.${layer}.key`,
  prefixValue: (layer: number) => `prefix_key_values.${layer}.value`,
} as const;

export const SOFT_PROMPT_NAMES = {
  softPrompt: 'soft_prompt',
  inputIds: 'input_ids',
  labelMask: 'label_mask',
  attentionMask: 'attention_mask',
  loss: 'loss',
  lossSumPerExample: 'loss_sum_per_example',
  labelCountPerExample: 'label_count_per_example',
  gradSoftPrompt: 'grad_soft_prompt',
} as const;

interface DecoderParts {
  readonly embeddingName: string;
  readonly kvHeads: number;
  readonly headDim: number;
  hidden(b: GraphBuilder, w: WeightSource, inputs: DecoderInputs): { hidden: Value; present: KeyValue[] };
  logits(b: GraphBuilder, w: WeightSource, hidden: Value): Value;
}

export function decoderParts(cfg: DecoderConfig, weights: WeightMap): DecoderParts {
  switch (cfg.architecture) {
    case 'llama':
      return {
        embeddingName: llamaEmbeddingName(),
        kvHeads: cfg.numKvHeads,
        headDim: cfg.headDim,
        hidden: (b, w, inputs) => llamaHidden(b, w, cfg, inputs),
        logits: (b, w, hidden) => llamaLogits(b, w, cfg, hidden),
      };
    case 'gpt2': {
      const prefix = gpt2Prefix(weights);
      return {
        embeddingName: `${prefix}wte.weight`,
        kvHeads: cfg.numHeads,
        headDim: cfg.hiddenSize / cfg.numHeads,
        hidden: (b, w, inputs) => gpt2Hidden(b, w, cfg, prefix, inputs),
        logits: (b, w, hidden) => gpt2Logits(b, w, cfg, prefix, hidden),
      };
    }
  }
}

export interface DecoderGraphOptions {
  readonly dtype?: FloatType;
  /** 'last' returns logits of the final position only ([batch, 1, vocab]): all that greedy decoding needs. */
  readonly logits?: 'all' | 'last';
  /**
   * Adds batch-1 inputs prefix_key_values.{i}.key/value [1, kvHeads, prefix, headDim]: a prefix shared by all rows
   * (soft prompt + examples), attended without a per-row copy. The attention mask then spans prefix + past + seq,
   * and present covers past + seq only. An empty prefix (size 0) gives the plain step.
   */
  readonly sharedPrefix?: boolean;
}

/** One decoder step: inputs_embeds, attention_mask [batch, past+seq], position_ids, past keys/values -> logits, present. */
export function buildDecoderStepGraph(weights: WeightMap, cfg: DecoderConfig, options: DecoderGraphOptions = {}): GraphBuilder {
  const dtype = options.dtype ?? 'float32';
  const parts = decoderParts(cfg, weights);
  const b = new GraphBuilder(`${cfg.architecture}_decoder_step`);
  const w = initializerWeights(b, weights, dtype);
  const embeds = b.input(DECODER_NAMES.inputsEmbeds, dtype, ['batch', 'seq', cfg.hiddenSize]);
  const attentionMask = b.input(DECODER_NAMES.attentionMask, 'int64', ['batch', 'total']);
  const positions = b.input(DECODER_NAMES.positionIds, 'int64', ['batch', 'seq']);
  const past: KeyValue[] = [];
  const shared: KeyValue[] = [];
  for (let i = 0; i < cfg.numLayers; i++) {
    past.push({
      key: b.input(DECODER_NAMES.pastKey(i), dtype, ['batch', parts.kvHeads, 'past', parts.headDim]),
      value: b.input(DECODER_NAMES.pastValue(i), dtype, ['batch', parts.kvHeads, 'past', parts.headDim]),
    });
    if (options.sharedPrefix) {
      shared.push({
        key: b.input(DECODER_NAMES.prefixKey(i), dtype, [1, parts.kvHeads, 'prefix', parts.headDim]),
        value: b.input(DECODER_NAMES.prefixValue(i), dtype, [1, parts.kvHeads, 'prefix', parts.headDim]),
      });
    }
  }
  const { hidden, present } = parts.hidden(b, w, { embeds, attentionMask, positions, past, ...(options.sharedPrefix ? { shared } : {}) });
  const last = options.logits === 'last' ? op.slice(b, hidden, [-1], [2 ** 62], [1]) : hidden;
  b.output(parts.logits(b, w, last), DECODER_NAMES.logits);
  present.forEach((kv, i) => {
    b.output(kv.key, DECODER_NAMES.presentKey(i));
    b.output(kv.value, DECODER_NAMES.presentValue(i));
  });
  return b;
}

/** input_ids [batch, seq] -> inputs_embeds [batch, seq, hidden] (token embeddings only; positions are added inside). */
export function buildEmbeddingGraph(weights: WeightMap, cfg: DecoderConfig, options: { dtype?: FloatType } = {}): GraphBuilder {
  const dtype = options.dtype ?? 'float32';
  const parts = decoderParts(cfg, weights);
  const b = new GraphBuilder(`${cfg.architecture}_embeddings`);
  const w = initializerWeights(b, weights, dtype);
  const ids = b.input('input_ids', 'int64', ['batch', 'seq']);
  b.output(op.gather(b, w.get(parts.embeddingName, [cfg.vocabSize, cfg.hiddenSize]), ids, 0), DECODER_NAMES.inputsEmbeds);
  return b;
}

interface SoftPromptLossOptions {
  readonly dtype?: FloatType;
  /** Number of virtual tokens l; 0 gives a plain causal-LM loss (perplexity). */
  readonly promptLength: number;
  /** Also output d loss / d soft_prompt. */
  readonly gradient: boolean;
}

/**
 * Mean cross-entropy over labelled positions. Inputs: soft_prompt [l, hidden] (when l > 0), input_ids [batch, n]
 * (the rest of the prompt, padded), label_mask [batch, n] (1.0 where the token is a target: query tokens + EOS),
 * attention_mask int64 [batch, l + n]. Token j is predicted from the position before it, so with l = 0 the first
 * token cannot be a target. Outputs loss (sum over labels / label count of the whole batch), per-example sums and
 * counts (for evaluation means), and grad_soft_prompt when asked.
 */
export function buildSoftPromptLossGraph(weights: WeightMap, cfg: DecoderConfig, options: SoftPromptLossOptions): GraphBuilder {
  const dtype = options.dtype ?? 'float32';
  const l = options.promptLength;
  if (!Number.isInteger(l) || l < 0) throw new Error(`promptLength must be a non-negative integer, got ${l}.`);
  if (options.gradient && l === 0) throw new Error('A soft-prompt gradient needs promptLength > 0.');
  const parts = decoderParts(cfg, weights);
  const N = SOFT_PROMPT_NAMES;
  const b = new GraphBuilder(`${cfg.architecture}_soft_prompt_loss`);
  const w = initializerWeights(b, weights, dtype);
  const softPrompt = l > 0 ? b.input(N.softPrompt, dtype, [l, cfg.hiddenSize]) : undefined;
  const ids = b.input(N.inputIds, 'int64', ['batch', 'n']);
  const labelMask = b.input(N.labelMask, dtype, ['batch', 'n']);
  const attentionMask = b.input(N.attentionMask, 'int64', ['batch', 'total']);

  let embeds = op.gather(b, w.get(parts.embeddingName, [cfg.vocabSize, cfg.hiddenSize]), ids, 0);
  if (softPrompt) {
    const target = op.concat(b, [op.dimOf(b, ids, 0), b.int64s([l, cfg.hiddenSize])], 0);
    const tiled = op.expand(b, op.unsqueeze(b, softPrompt, [0]), target, ['batch', l, cfg.hiddenSize]);
    embeds = op.concat(b, [tiled, embeds], 1);
  }
  const positions = layers.positionsFromMask(b, attentionMask);
  const { hidden } = parts.hidden(b, w, { embeds, attentionMask, positions });
  const END = 2 ** 62;
  const predicting = op.slice(b, hidden, [l > 0 ? l - 1 : 0], [-1], [1]);
  const labels = l > 0 ? ids : op.slice(b, ids, [1], [END], [1]);
  const mask = l > 0 ? labelMask : op.slice(b, labelMask, [1], [END], [1]);
  const logProb = layers.labelLogProb(b, parts.logits(b, w, predicting), labels, cfg.vocabSize);
  const nll = op.mul(b, op.neg(b, logProb), mask);
  const perExample = op.reduceSum(b, nll, [1], false);
  const counts = op.reduceSum(b, mask, [1], false);
  const loss = op.div(b, op.reduceSum(b, perExample, [0], false), op.reduceSum(b, counts, [0], false));
  b.output(loss, N.loss);
  b.output(perExample, N.lossSumPerExample);
  b.output(counts, N.labelCountPerExample);
  if (softPrompt && options.gradient) {
    const grads = appendGradients(b, loss, [softPrompt]);
    b.output(grads.get(softPrompt.name) as Value, N.gradSoftPrompt);
  }
  return b;
}
