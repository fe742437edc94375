// Composite layers made only of primitives from ops.ts, so autodiff differentiates them through the primitive VJPs.
import type { Dim, GraphBuilder, Value } from './graph-builder.ts';
import * as op from './ops.ts';

/** y = x W^T (+ bias) for an nn.Linear weight stored [out, in]. */
export function linear(b: GraphBuilder, x: Value, weight: Value, bias?: Value): Value {
  const y = op.matmul(b, x, op.transpose(b, weight, [1, 0]));
  return bias ? op.add(b, y, bias) : y;
}

/** y = x W (+ bias) for a GPT-2 Conv1D weight stored [in, out]. */
export function conv1d(b: GraphBuilder, x: Value, weight: Value, bias?: Value): Value {
  const y = op.matmul(b, x, weight);
  return bias ? op.add(b, y, bias) : y;
}

export function layerNorm(b: GraphBuilder, x: Value, gamma: Value, beta: Value, eps: number): Value {
  const centered = op.sub(b, x, op.reduceMean(b, x, [-1], true));
  const variance = op.reduceMean(b, op.mul(b, centered, centered), [-1], true);
  const normed = op.div(b, centered, op.sqrt(b, op.addScalar(b, variance, eps)));
  return op.add(b, op.mul(b, normed, gamma), beta);
}

export function rmsNorm(b: GraphBuilder, x: Value, weight: Value, eps: number): Value {
  const meanSquare = op.reduceMean(b, op.mul(b, x, x), [-1], true);
  return op.mul(b, op.div(b, x, op.sqrt(b, op.addScalar(b, meanSquare, eps))), weight);
}

export function silu(b: GraphBuilder, x: Value): Value {
  return op.mul(b, x, op.sigmoid(b, x));
}

/** GELU, tanh approximation (GPT-2's gelu_new). */
export function geluTanh(b: GraphBuilder, x: Value): Value {
  const inner = op.scale(b, op.add(b, x, op.scale(b, op.pow(b, x, 3), 0.044715)), Math.sqrt(2 / Math.PI));
  return op.mul(b, op.scale(b, x, 0.5), op.addScalar(b, op.tanh(b, inner), 1));
}

// Abramowitz & Stegun 7.1.26 coefficients; |error| < 1.5e-7.
const AS_P = 0.3275911;
const AS_A = [0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429];

/**
 * erf(x). float32 uses the ONNX Erf op; onnxruntime's CPU provider has no float64 Erf, so float64 graphs use the
 * A&S 7.1.26 approximation built from primitives (|error| < 1.5e-7); its gradient is exact for that function.
 */
function erf(b: GraphBuilder, x: Value): Value {
  if (x.dtype === 'float32') return op.erf(b, x);
  const negative = op.less(b, x, b.scalar(x.dtype, 0));
  const ax = op.where(b, negative, op.neg(b, x), x);
  const t = op.div(b, b.scalar(x.dtype, 1), op.addScalar(b, op.scale(b, ax, AS_P), 1));
  let poly = op.scale(b, t, AS_A[4] ?? 0);
  for (let i = 3; i >= 0; i--) poly = op.mul(b, op.addScalar(b, poly, AS_A[i] ?? 0), t);
  const positive = op.sub(b, b.scalar(x.dtype, 1), op.mul(b, poly, op.exp(b, op.neg(b, op.mul(b, ax, ax)))));
  return op.where(b, negative, op.neg(b, positive), positive);
}

/** GELU with the exact erf form (BERT). */
export function geluErf(b: GraphBuilder, x: Value): Value {
  const cdf = op.addScalar(b, erf(b, op.scale(b, x, Math.SQRT1_2)), 1);
  return op.mul(b, op.scale(b, x, 0.5), cdf);
}

/** x / ||x|| over the last axis (a 1e-24 floor under the square keeps a zero vector finite). */
export function l2Normalize(b: GraphBuilder, x: Value): Value {
  const norm = op.sqrt(b, op.addScalar(b, op.reduceSum(b, op.mul(b, x, x), [-1], true), 1e-24));
  return op.div(b, x, norm);
}

/** HF rotate-half: concat(-x2, x1) where x1, x2 are the two halves of the last axis. */
export function rotateHalf(b: GraphBuilder, x: Value, headDim: number): Value {
  const half = headDim / 2;
  const x1 = op.slice(b, x, [0], [half], [-1]);
  const x2 = op.slice(b, x, [half], [headDim], [-1]);
  return op.concat(b, [op.neg(b, x2), x1], -1);
}

/** cos and sin tables [batch, 1, seq, headDim] for integer positions [batch, seq] (HF rotary layout). */
export function rotaryTables(b: GraphBuilder, positions: Value, headDim: number, theta: number, dtype: 'float32' | 'float64'): { cos: Value; sin: Value } {
  const invFreq = Array.from({ length: headDim / 2 }, (_, j) => theta ** (-(2 * j) / headDim));
  const pos = op.unsqueeze(b, op.cast(b, positions, dtype), [-1]);
  const freqs = op.mul(b, pos, b.constant(dtype, [headDim / 2], invFreq));
  const emb = op.unsqueeze(b, op.concat(b, [freqs, freqs], -1), [1]);
  return { cos: op.cos(b, emb), sin: op.sin(b, emb) };
}

export function applyRotary(b: GraphBuilder, x: Value, tables: { cos: Value; sin: Value }, headDim: number): Value {
  return op.add(b, op.mul(b, x, tables.cos), op.mul(b, rotateHalf(b, x, headDim), tables.sin));
}

const MASKED = -1e9;

/** Additive attention bias [batch, 1, seq, total] from a 0/1 int64 mask [batch, total]; causal when asked. */
export function attentionBias(b: GraphBuilder, mask: Value, seqOf: Value, causal: boolean, dtype: 'float32' | 'float64'): Value {
  const keep = op.equal(b, op.unsqueeze(b, mask, [1, 2]), b.scalar('int64', 1));
  let allowed = keep;
  if (causal) {
    const total = op.squeeze(b, op.dimOf(b, mask, 1), [0]);
    const seq = op.squeeze(b, op.dimOf(b, seqOf, 1), [0]);
    const past = op.sub(b, total, seq);
    const qpos = op.unsqueeze(b, op.range(b, past, total, seqOf.shape[1] ?? null), [1]);
    const kpos = op.unsqueeze(b, op.range(b, b.scalar('int64', 0), total, mask.shape[1] ?? null), [0]);
    allowed = op.and(b, keep, op.lessOrEqual(b, kpos, qpos));
  }
  return op.where(b, allowed, b.scalar(dtype, 0), b.scalar(dtype, MASKED));
}

/** Positions from a left- or right-padded 0/1 mask: count of kept tokens before each place, 0 on padding. */
export function positionsFromMask(b: GraphBuilder, mask: Value): Value {
  const counted = op.sub(b, op.cumsum(b, mask, 1), b.scalar('int64', 1));
  return op.max(b, counted, b.scalar('int64', 0));
}

/** Keys and values [1, KV, P, D] of a prefix shared by every row of the batch (broadcast, never copied per row). */
interface SharedKeyValue {
  readonly key: Value;
  readonly value: Value;
}

/**
 * Multi-head attention. q [b, H, s, D], k and v [b, KV, t, D] with H a multiple of KV (grouped-query attention
 * shares each key/value head among H/KV query heads). bias [b, 1, s, t], or [b, 1, s, P + t] with a shared prefix:
 * its P positions come first and are attended through a batch-broadcast MatMul, so one prefix copy serves all rows.
 * Returns [b, s, H*D].
 *
 * Grouped queries are viewed as [b, KV, groups*s, D] (a free reshape of [b, H, s, D]) so that keys and values enter
 * the MatMuls as they are: a [b, KV, 1, t, D] view of them would make onnxruntime copy the whole key/value cache
 * of every layer at every decoding step.
 */
export function attention(b: GraphBuilder, q: Value, k: Value, v: Value, bias: Value, numHeads: number, numKvHeads: number, headDim: number, shared?: SharedKeyValue): Value {
  const scaled = op.scale(b, q, 1 / Math.sqrt(headDim));
  const groups = numHeads / numKvHeads;
  const grouped = numKvHeads !== numHeads;
  const s = q.shape[2] ?? null;
  const rowsDim: Dim = !grouped ? s : typeof s === 'number' ? s * groups : s === null ? null : `${groups}*${s}`;
  const qg = grouped ? op.reshapeTo(b, scaled, b.int64s([0, numKvHeads, -1, headDim]), [q.shape[0] ?? null, numKvHeads, rowsDim, headDim]) : scaled;
  // Row r of a group-major [groups*s] block is query position r mod s: the bias repeats once per group.
  const biasG = grouped ? op.concat(b, new Array<Value>(groups).fill(bias), 2) : bias;
  const own = op.matmul(b, qg, op.transposeLast2(b, k));
  let context: Value;
  if (!shared) {
    context = op.matmul(b, op.softmax(b, op.add(b, own, biasG)), v);
  } else {
    const prefixScores = op.matmul(b, qg, op.transposeLast2(b, shared.key));
    const probs = op.softmax(b, op.add(b, op.concat(b, [prefixScores, own], -1), biasG));
    const prefixLength = op.dimOf(b, shared.key, 2);
    const rank = probs.shape.length;
    const prefixProbs = op.sliceDynamic(b, probs, b.int64s([0]), prefixLength, [-1], [...probs.shape.slice(0, -1), shared.key.shape[2] ?? null]);
    const ownProbs = op.sliceDynamic(b, probs, prefixLength, b.int64s([2 ** 62]), [rank - 1], [...probs.shape.slice(0, -1), k.shape[2] ?? null]);
    context = op.add(b, op.matmul(b, prefixProbs, shared.value), op.matmul(b, ownProbs, v));
  }
  if (grouped) context = op.reshapeTo(b, context, b.int64s([0, numHeads, -1, headDim]), [q.shape[0] ?? null, numHeads, s, headDim]);
  return op.reshape(b, op.transpose(b, context, [0, 2, 1, 3]), [0, 0, numHeads * headDim]);
}

/** [b, s, H*D] -> [b, H, s, D]. */
export function splitHeads(b: GraphBuilder, x: Value, heads: number, headDim: number): Value {
  return op.transpose(b, op.reshape(b, x, [0, 0, heads, headDim]), [0, 2, 1, 3]);
}

/** log p(label) per position: logits [..., V], labels int64 [...]. */
export function labelLogProb(b: GraphBuilder, logits: Value, labels: Value, vocabSize: number): Value {
  const logp = op.logSoftmax(b, logits, -1);
  const vocab = op.range(b, b.scalar('int64', 0), b.scalar('int64', vocabSize), vocabSize);
  const oneHot = op.cast(b, op.equal(b, op.unsqueeze(b, labels, [-1]), vocab), logits.dtype);
  return op.reduceSum(b, op.mul(b, logp, oneHot), [-1], false);
}

/** A Linear layer's weight quantized to int8 [in, out] with one float32 scale per output channel. */
export interface Int8LinearWeights {
  readonly weight: Value;
  readonly scales: Value;
  readonly bias?: Value;
}

/**
 * How the int8 Linear is expressed: 'fused' as onnxruntime's contrib DynamicQuantizeMatMul node, 'standard' as
 * standard ONNX ops (DynamicQuantizeLinear, MatMulInteger, Cast, Mul by activation scale x weight scales, Add).
 */
export type Int8LinearForm = 'fused' | 'standard';

/**
 * y ~ x W^T (+ bias) with W int8 per output channel and x quantized to uint8 per tensor at run time (its range,
 * widened to include 0, over 255 steps); accumulation is exact in int32, the result float32.
 */
export function int8Linear(b: GraphBuilder, x: Value, w: Int8LinearWeights, form: Int8LinearForm = 'fused'): Value {
  if (form === 'fused') return op.dynamicQuantizeMatMul(b, x, w.weight, w.scales, w.bias);
  const q = op.dynamicQuantizeLinear(b, x);
  const acc = op.cast(b, op.matMulInteger(b, q.data, w.weight, q.zeroPoint), 'float32');
  const y = op.mul(b, acc, op.mul(b, q.scale, w.scales));
  return w.bias ? op.add(b, y, w.bias) : y;
}
