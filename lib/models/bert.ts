// BERT encoder (post-LayerNorm, exact-erf GELU, token types, absolute positions) with mean pooling over the
// attention mask, as sentence-transformers' all-MiniLM-L6-v2. Weight names without the `bert.` prefix (detected
// when present).
import type { GraphBuilder, Value } from '../onnx/graph-builder.ts';
import * as layers from '../onnx/layers.ts';
import * as op from '../onnx/ops.ts';
import type { BertConfig, WeightMap } from './model-config.ts';
import type { WeightSource } from './weight-source.ts';

export function bertPrefix(weights: WeightMap): string {
  return weights.has('bert.embeddings.word_embeddings.weight') ? 'bert.' : '';
}

interface BertInputs {
  /** int64 [batch, seq] */
  readonly inputIds: Value;
  /** int64 0/1 [batch, seq] */
  readonly attentionMask: Value;
  /** int64 [batch, seq]; all zeros when absent. */
  readonly tokenTypeIds?: Value;
}

/**
 * One of the encoder's Linear layers (attention query/key/value/output, FFN in/out) applied to x: `name` is its
 * HuggingFace name without `.weight`/`.bias`, `out` and `inp` its sizes. The default reads the float weights.
 */
export type BertLinear = (x: Value, name: string, out: number, inp: number) => Value;

/**
 * Replacements for the differentiable building blocks, for forward-only graphs: `linear` (e.g. int8 layers) and
 * `fused` (onnxruntime's LayerNormalization, Gelu and MultiHeadAttention kernels in place of the same maths written out in primitives,
 * which have no VJP and so never enter a training graph).
 */
export interface BertKernels {
  readonly linear?: BertLinear;
  readonly fused?: boolean;
}

/** Mean-pooled sentence embeddings [batch, hidden]. */
export function bertPooled(b: GraphBuilder, w: WeightSource, cfg: BertConfig, prefix: string, inputs: BertInputs, kernels: BertKernels = {}): Value {
  const { linear, fused } = kernels;
  const norm = (x: Value, gamma: Value, beta: Value) => (fused ? op.layerNormalization(b, x, gamma, beta, eps) : layers.layerNorm(b, x, gamma, beta, eps));
  const gelu = (x: Value) => (fused ? op.gelu(b, x) : layers.geluErf(b, x));
  const { hiddenSize: h, numHeads: nh, intermediateSize: ff, layerNormEps: eps } = cfg;
  const d = h / nh;
  const e = `${prefix}embeddings.`;
  const seq = op.squeeze(b, op.dimOf(b, inputs.inputIds, 1), [0]);
  const positions = op.range(b, b.scalar('int64', 0), seq, inputs.inputIds.shape[1] ?? null);
  const typeIds = inputs.tokenTypeIds ?? b.scalar('int64', 0);
  let x = op.gather(b, w.get(`${e}word_embeddings.weight`, [cfg.vocabSize, h]), inputs.inputIds, 0);
  x = op.add(b, x, op.gather(b, w.get(`${e}position_embeddings.weight`, [cfg.maxPositions, h]), positions, 0));
  x = op.add(b, x, op.gather(b, w.get(`${e}token_type_embeddings.weight`, [cfg.typeVocabSize, h]), typeIds, 0));
  x = norm(x, w.get(`${e}LayerNorm.weight`, [h]), w.get(`${e}LayerNorm.bias`, [h]));
  // The fused attention kernel takes the 0/1 mask itself; the primitive one an additive bias.
  const keyMask = fused ? op.cast(b, inputs.attentionMask, 'int32') : undefined;
  const bias = fused ? undefined : layers.attentionBias(b, inputs.attentionMask, inputs.inputIds, false, w.dtype);
  for (let i = 0; i < cfg.numLayers; i++) {
    const p = `${prefix}encoder.layer.${i}.`;
    const lin = (name: string, out: number, inp: number, v: Value) =>
      linear ? linear(v, `${p}${name}`, out, inp) : layers.linear(b, v, w.get(`${p}${name}.weight`, [out, inp]), w.get(`${p}${name}.bias`, [out]));
    const q = lin('attention.self.query', h, h, x);
    const k = lin('attention.self.key', h, h, x);
    const v = lin('attention.self.value', h, h, x);
    const context = keyMask
      ? op.multiHeadAttention(b, q, k, v, keyMask, nh)
      : layers.attention(b, layers.splitHeads(b, q, nh, d), layers.splitHeads(b, k, nh, d), layers.splitHeads(b, v, nh, d), bias!, nh, nh, d);
    const attn = lin('attention.output.dense', h, h, context);
    x = norm(op.add(b, x, attn), w.get(`${p}attention.output.LayerNorm.weight`, [h]), w.get(`${p}attention.output.LayerNorm.bias`, [h]));
    const inner = gelu(lin('intermediate.dense', ff, h, x));
    x = norm(op.add(b, x, lin('output.dense', h, ff, inner)), w.get(`${p}output.LayerNorm.weight`, [h]), w.get(`${p}output.LayerNorm.bias`, [h]));
  }
  const maskF = op.cast(b, op.unsqueeze(b, inputs.attentionMask, [-1]), w.dtype);
  const summed = op.reduceSum(b, op.mul(b, x, maskF), [1], false);
  const count = op.max(b, op.reduceSum(b, maskF, [1], false), b.scalar(w.dtype, 1e-9));
  return op.div(b, summed, count);
}
