// Sentence-encoder graphs: forward encoding (mean pooled, optionally L2-normalised) and one training step of the
// multiple-negatives ranking loss with the gradient for every encoder weight.
import { appendGradients } from '../onnx/autodiff.ts';
import { GraphBuilder, type Value } from '../onnx/graph-builder.ts';
import * as layers from '../onnx/layers.ts';
import * as op from '../onnx/ops.ts';
import { quantizeLinearWeight } from '../onnx/quantize.ts';
import { bertPooled, bertPrefix, type BertLinear } from './bert.ts';
import type { BertConfig, WeightMap } from './model-config.ts';
import { initializerWeights, inputWeights, type FloatType, type WeightSource } from './weight-source.ts';

export const ENCODER_NAMES = {
  inputIds: 'input_ids',
  attentionMask: 'attention_mask',
  tokenTypeIds: 'token_type_ids',
  embedding: 'sentence_embedding',
  queryIds: 'query_input_ids',
  queryMask: 'query_attention_mask',
  docIds: 'doc_input_ids',
  docMask: 'doc_attention_mask',
  loss: 'loss',
  grad: (weight: string) => `grad.${weight}`,
} as const;

/** Arithmetic of the encoder's Linear layers at inference: float, or int8 weights with dynamically quantized inputs. */
export type EncoderPrecision = 'fp32' | 'int8';

export interface EncoderGraphOptions {
  readonly dtype?: FloatType;
  readonly normalize?: boolean;
  /**
   * 'int8': every Linear layer of the transformer blocks gets its weight quantized per output channel (symmetric
   * int8) when the graph is built and its input per tensor at run time (uint8); embeddings, LayerNorm, softmax,
   * GELU and pooling stay float32. Absent or 'fp32': float throughout. int8 needs dtype float32.
   */
  readonly precision?: EncoderPrecision;
  /** float32 only: onnxruntime's LayerNormalization and Gelu kernels instead of the same maths in primitives. */
  readonly fusedKernels?: boolean;
  /** How int8 Linear layers are written into the graph (default 'fused'; see layers.int8Linear). */
  readonly int8Form?: layers.Int8LinearForm;
}

/** Linear layers whose weights are quantized to int8 as the graph is built (the float weights stay out of it). */
function int8Linears(b: GraphBuilder, weights: WeightMap, w: WeightSource, form: layers.Int8LinearForm): BertLinear {
  return (x, name, out, inp) => {
    const weight = weights.get(`${name}.weight`);
    if (!weight || weight.dims[0] !== out || weight.dims[1] !== inp) throw new Error(`int8 encoder: weight "${name}.weight" is missing or not [${out}, ${inp}].`);
    const q = quantizeLinearWeight(weight.data, out, inp);
    const int8: layers.Int8LinearWeights = {
      weight: b.initializer(`${name}.weight.int8`, 'int8', [inp, out], q.data),
      scales: b.initializer(`${name}.weight.scale`, 'float32', [out], q.scales),
      bias: w.get(`${name}.bias`, [out]),
    };
    return layers.int8Linear(b, x, int8, form);
  };
}

/** input_ids, attention_mask, token_type_ids [batch, seq] -> sentence_embedding [batch, hidden]. */
export function buildEncoderGraph(weights: WeightMap, cfg: BertConfig, options: EncoderGraphOptions = {}): GraphBuilder {
  const dtype = options.dtype ?? 'float32';
  const int8 = options.precision === 'int8';
  if (int8 && dtype !== 'float32') throw new Error(`An int8 encoder graph computes in float32 around its int8 layers; dtype ${dtype} was asked for.`);
  const b = new GraphBuilder(int8 ? 'bert_encoder_int8' : 'bert_encoder');
  const w = initializerWeights(b, weights, dtype);
  const N = ENCODER_NAMES;
  const inputIds = b.input(N.inputIds, 'int64', ['batch', 'seq']);
  const attentionMask = b.input(N.attentionMask, 'int64', ['batch', 'seq']);
  const tokenTypeIds = b.input(N.tokenTypeIds, 'int64', ['batch', 'seq']);
  const linear = int8 ? int8Linears(b, weights, w, options.int8Form ?? 'fused') : undefined;
  const fused = options.fusedKernels === true && dtype === 'float32';
  const pooled = bertPooled(b, w, cfg, bertPrefix(weights), { inputIds, attentionMask, tokenTypeIds }, { ...(linear ? { linear } : {}), fused });
  b.output(options.normalize ? layers.l2Normalize(b, pooled) : pooled, N.embedding);
  return b;
}

export interface EncoderTrainingOptions {
  readonly dtype?: FloatType;
  /** Cosine similarities are multiplied by this before the softmax (sentence-transformers' default 20). */
  readonly scale?: number;
}

/**
 * Multiple-negatives ranking loss over a batch of (query, positive document) pairs and optional hard negatives:
 * documents 0..batch-1 are the queries' positives and any documents after them are hard negatives shared by the
 * batch; every document but a query's own positive is its negative; loss = mean over queries of cross-entropy of
 * softmax(scale * cos(q_i, d_j)) over all documents j at j = i.
 * Query and document go through the same encoder. Every weight is a graph input named by its HuggingFace name;
 * outputs are `loss` and `grad.<name>` for each of them (weightNames lists them).
 */
export function buildEncoderTrainingGraph(weights: WeightMap, cfg: BertConfig, options: EncoderTrainingOptions = {}): { graph: GraphBuilder; weightNames: string[] } {
  const dtype = options.dtype ?? 'float32';
  const b = new GraphBuilder('bert_mnrl_training_step');
  const w = inputWeights(b, weights, dtype);
  const N = ENCODER_NAMES;
  const prefix = bertPrefix(weights);
  const queryIds = b.input(N.queryIds, 'int64', ['batch', 'query_len']);
  const queryMask = b.input(N.queryMask, 'int64', ['batch', 'query_len']);
  // The first `batch` documents are the queries' positives, in order; any further ones are hard negatives.
  const docIds = b.input(N.docIds, 'int64', ['docs', 'doc_len']);
  const docMask = b.input(N.docMask, 'int64', ['docs', 'doc_len']);
  const q = layers.l2Normalize(b, bertPooled(b, w, cfg, prefix, { inputIds: queryIds, attentionMask: queryMask }));
  const d = layers.l2Normalize(b, bertPooled(b, w, cfg, prefix, { inputIds: docIds, attentionMask: docMask }));
  const scores = op.scale(b, op.matmul(b, q, op.transpose(b, d, [1, 0])), options.scale ?? 20);
  const batch = op.squeeze(b, op.dimOf(b, queryIds, 0), [0]);
  const docCount = op.squeeze(b, op.dimOf(b, docIds, 0), [0]);
  const index = op.range(b, b.scalar('int64', 0), batch, 'batch');
  const docIndex = op.range(b, b.scalar('int64', 0), docCount, 'docs');
  const diagonal = op.cast(b, op.equal(b, op.unsqueeze(b, index, [1]), op.unsqueeze(b, docIndex, [0])), dtype);
  const picked = op.reduceSum(b, op.mul(b, op.logSoftmax(b, scores, -1), diagonal), [1], false);
  const loss = op.neg(b, op.reduceMean(b, picked, [0], false));
  const params: Value[] = [...w.used()];
  const grads = appendGradients(b, loss, params);
  b.output(loss, N.loss);
  for (const p of params) b.output(grads.get(p.name) as Value, N.grad(p.name));
  return { graph: b, weightNames: params.map((p) => p.name) };
}
