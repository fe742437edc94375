// Standard ONNX ops as builder helpers: each records one node and infers its output dtype and shape (known
// sizes, symbolic names or null) so later helpers and the VJPs can reason about broadcasting statically.
import { elemTypeOf, float, int, ints, MS_DOMAIN, type DType, type Dim, type GraphBuilder, type Shape, type Value } from './graph-builder.ts';

function normalizeAxis(axis: number, rank: number, where: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new Error(`${where}: axis ${axis} is out of range for a rank-${rank} tensor.`);
  return a;
}

/** Whether two dims are known to be equal: the same size or the same symbolic name (null, unknown, never is). */
export function sameDim(a: Dim, b: Dim): boolean {
  return a !== null && a === b;
}

/** Numpy-style broadcast of two shapes (a null stays unknown unless the other side fixes it). */
function broadcastShape(a: Shape, b: Shape): Dim[] {
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const da = i - (rank - a.length) >= 0 ? (a[i - (rank - a.length)] ?? null) : 1;
    const db = i - (rank - b.length) >= 0 ? (b[i - (rank - b.length)] ?? null) : 1;
    if (da === 1) out.push(db);
    else if (db === 1) out.push(da);
    else if (sameDim(da, db)) out.push(da);
    else if (typeof da === 'number' && typeof db === 'number') throw new Error(`Cannot broadcast shapes [${a.join(', ')}] and [${b.join(', ')}].`);
    else out.push(typeof db === 'number' ? db : typeof da === 'number' ? da : da === null ? db : da);
  }
  return out;
}

function checkFloat(x: Value, op: string): void {
  if (x.dtype !== 'float32' && x.dtype !== 'float64') throw new Error(`${op} needs a float tensor but "${x.name}" is ${x.dtype}.`);
}

function checkSameDtype(x: Value, y: Value, op: string): void {
  if (x.dtype !== y.dtype) throw new Error(`${op}: "${x.name}" is ${x.dtype} but "${y.name}" is ${y.dtype}; insert a Cast.`);
}

const binary = (op: string) => (b: GraphBuilder, x: Value, y: Value): Value => {
  checkSameDtype(x, y, op);
  return b.node(op, [x, y], { dtype: x.dtype, shape: broadcastShape(x.shape, y.shape) });
};

const unary = (op: string) => (b: GraphBuilder, x: Value): Value => {
  checkFloat(x, op);
  return b.node(op, [x], { dtype: x.dtype, shape: x.shape });
};

export const add = binary('Add');
export const sub = binary('Sub');
export const mul = binary('Mul');
export const div = binary('Div');
export const neg = unary('Neg');
export const sqrt = unary('Sqrt');
export const exp = unary('Exp');
export const log = unary('Log');
export const tanh = unary('Tanh');
export const sigmoid = unary('Sigmoid');
export const erf = unary('Erf');
export const sin = unary('Sin');
export const cos = unary('Cos');

/** x ** p for a constant exponent p (the VJP needs p as a number). */
export function pow(b: GraphBuilder, x: Value, p: number): Value {
  checkFloat(x, 'Pow');
  return b.node('Pow', [x, b.scalar(x.dtype, p)], { dtype: x.dtype, shape: x.shape }, {}, { exponent: p });
}

/** Multiply by a constant scalar. */
export function scale(b: GraphBuilder, x: Value, factor: number): Value {
  return mul(b, x, b.scalar(x.dtype, factor));
}

export function addScalar(b: GraphBuilder, x: Value, c: number): Value {
  return add(b, x, b.scalar(x.dtype, c));
}

export function matmul(b: GraphBuilder, x: Value, y: Value): Value {
  checkSameDtype(x, y, 'MatMul');
  if (x.shape.length < 2 || y.shape.length < 2) throw new Error(`MatMul: "${x.name}" and "${y.name}" must both have rank >= 2.`);
  const batch = broadcastShape(x.shape.slice(0, -2), y.shape.slice(0, -2));
  const m = x.shape[x.shape.length - 2] ?? null;
  const n = y.shape[y.shape.length - 1] ?? null;
  const kx = x.shape[x.shape.length - 1] ?? null;
  const ky = y.shape[y.shape.length - 2] ?? null;
  if (typeof kx === 'number' && typeof ky === 'number' && kx !== ky) {
    throw new Error(`MatMul: inner sizes differ ("${x.name}" has ${kx} columns, "${y.name}" has ${ky} rows).`);
  }
  return b.node('MatMul', [x, y], { dtype: x.dtype, shape: [...batch, m, n] });
}

export function softmax(b: GraphBuilder, x: Value, axis = -1): Value {
  checkFloat(x, 'Softmax');
  const a = normalizeAxis(axis, x.shape.length, 'Softmax');
  return b.node('Softmax', [x], { dtype: x.dtype, shape: x.shape }, { axis: int(a) }, { axis: a });
}

export function logSoftmax(b: GraphBuilder, x: Value, axis = -1): Value {
  checkFloat(x, 'LogSoftmax');
  const a = normalizeAxis(axis, x.shape.length, 'LogSoftmax');
  return b.node('LogSoftmax', [x], { dtype: x.dtype, shape: x.shape }, { axis: int(a) }, { axis: a });
}

function reducedShape(x: Value, axes: readonly number[], keepdims: boolean): Dim[] {
  return x.shape.flatMap((d, i) => (axes.includes(i) ? (keepdims ? [1] : []) : [d]));
}

export function reduceSum(b: GraphBuilder, x: Value, axes: readonly number[], keepdims: boolean): Value {
  const norm = axes.map((a) => normalizeAxis(a, x.shape.length, 'ReduceSum'));
  return b.node('ReduceSum', [x, b.int64s(norm)], { dtype: x.dtype, shape: reducedShape(x, norm, keepdims) }, { keepdims: int(keepdims ? 1 : 0) }, { axes: norm, keepdims });
}

export function reduceMean(b: GraphBuilder, x: Value, axes: readonly number[], keepdims: boolean): Value {
  const norm = axes.map((a) => normalizeAxis(a, x.shape.length, 'ReduceMean'));
  return b.node('ReduceMean', [x], { dtype: x.dtype, shape: reducedShape(x, norm, keepdims) }, { axes: ints(norm), keepdims: int(keepdims ? 1 : 0) }, { axes: norm, keepdims });
}

/**
 * Reshape to a constant target (0 copies the input size, -1 is inferred), as in ONNX. The -1 size is inferred
 * symbolically too when the input keeps exactly one symbolic size beyond the copied ones, so later broadcasts
 * (and their gradients) stay statically known.
 */
export function reshape(b: GraphBuilder, x: Value, target: readonly number[]): Value {
  const shape: Dim[] = target.map((t, i) => (t === 0 ? (x.shape[i] ?? null) : t === -1 ? null : t));
  const minus = target.indexOf(-1);
  if (minus >= 0) {
    const rest = x.shape.filter((_, i) => target[i] !== 0);
    const numeric = rest.filter((d): d is number => typeof d === 'number').reduce((a, c) => a * c, 1);
    const others = rest.filter((d) => typeof d !== 'number');
    const explicit = target.filter((t) => t > 0).reduce((a, c) => a * c, 1);
    if (others.length === 0) shape[minus] = numeric / explicit;
    else if (others.length === 1 && others[0] !== null && numeric === explicit) shape[minus] = others[0] ?? null;
  }
  return b.node('Reshape', [x, b.int64s(target)], { dtype: x.dtype, shape });
}

/** Reshape to a shape computed in the graph; `shape` is what the caller knows of the result. */
export function reshapeTo(b: GraphBuilder, x: Value, shapeValue: Value, shape: Shape): Value {
  return b.node('Reshape', [x, shapeValue], { dtype: x.dtype, shape });
}

export function transpose(b: GraphBuilder, x: Value, perm: readonly number[]): Value {
  if (perm.length !== x.shape.length) throw new Error(`Transpose: perm [${perm.join(', ')}] does not match rank ${x.shape.length} of "${x.name}".`);
  return b.node('Transpose', [x], { dtype: x.dtype, shape: perm.map((p) => x.shape[p] ?? null) }, { perm: ints(perm) }, { perm });
}

/** Swap the last two axes. */
export function transposeLast2(b: GraphBuilder, x: Value): Value {
  const r = x.shape.length;
  const perm = [...Array(r).keys()];
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return transpose(b, x, perm);
}

export function concat(b: GraphBuilder, xs: readonly Value[], axis: number): Value {
  const first = xs[0];
  if (!first) throw new Error('Concat needs at least one input.');
  const a = normalizeAxis(axis, first.shape.length, 'Concat');
  const shape = first.shape.map((d, i) => {
    if (i !== a) return d;
    const sizes = xs.map((x) => x.shape[i] ?? null);
    if (sizes.every((s) => typeof s === 'number')) return (sizes as number[]).reduce((p, c) => p + c, 0);
    // A symbolic sum names the size so that equal concatenations compare equal.
    return sizes.some((s) => s === null) ? null : sizes.join('+');
  });
  for (const x of xs) checkSameDtype(first, x, 'Concat');
  return b.node('Concat', xs, { dtype: first.dtype, shape }, { axis: int(a) }, { axis: a });
}

/** Slice with constant bounds, step 1 (negative bounds count from the end; large ends clamp). */
export function slice(b: GraphBuilder, x: Value, starts: readonly number[], ends: readonly number[], axes: readonly number[]): Value {
  const norm = axes.map((a) => normalizeAxis(a, x.shape.length, 'Slice'));
  const shape = x.shape.map((d, i) => {
    const k = norm.indexOf(i);
    if (k < 0) return d;
    const s = starts[k] ?? 0;
    const e = ends[k] ?? 0;
    if (typeof d === 'number') {
      const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + d : v, 0), d);
      return Math.max(clamp(e) - clamp(s), 0);
    }
    // The run-time size may clamp the bounds, so an unknown size gives an unknown (or derived symbolic) result.
    return d === null ? null : `${d}[${s}:${e}]`;
  });
  return b.node('Slice', [x, b.int64s(starts), b.int64s(ends), b.int64s(norm)], { dtype: x.dtype, shape }, {}, { starts, ends, axes: norm });
}

/** Slice with bounds computed in the graph (1-D int64 values), step 1. */
export function sliceDynamic(b: GraphBuilder, x: Value, starts: Value, ends: Value, axes: readonly number[], shape: Shape): Value {
  const norm = axes.map((a) => normalizeAxis(a, x.shape.length, 'Slice'));
  return b.node('Slice', [x, starts, ends, b.int64s(norm)], { dtype: x.dtype, shape }, {}, { axes: norm });
}

export function gather(b: GraphBuilder, data: Value, indices: Value, axis = 0): Value {
  if (indices.dtype !== 'int64') throw new Error(`Gather: indices "${indices.name}" must be int64, got ${indices.dtype}.`);
  const a = normalizeAxis(axis, data.shape.length, 'Gather');
  const shape = [...data.shape.slice(0, a), ...indices.shape, ...data.shape.slice(a + 1)];
  return b.node('Gather', [data, indices], { dtype: data.dtype, shape }, { axis: int(a) }, { axis: a });
}

export function where(b: GraphBuilder, cond: Value, x: Value, y: Value): Value {
  if (cond.dtype !== 'bool') throw new Error(`Where: condition "${cond.name}" must be bool.`);
  checkSameDtype(x, y, 'Where');
  return b.node('Where', [cond, x, y], { dtype: x.dtype, shape: broadcastShape(cond.shape, broadcastShape(x.shape, y.shape)) });
}

export function cast(b: GraphBuilder, x: Value, to: DType): Value {
  return b.node('Cast', [x], { dtype: to, shape: x.shape }, { to: int(elemTypeOf(to)) });
}

export function unsqueeze(b: GraphBuilder, x: Value, axes: readonly number[]): Value {
  const rank = x.shape.length + axes.length;
  const norm = axes.map((a) => normalizeAxis(a, rank, 'Unsqueeze')).sort((p, q) => p - q);
  const shape: Dim[] = [];
  let j = 0;
  for (let i = 0; i < rank; i++) shape.push(norm.includes(i) ? 1 : (x.shape[j++] ?? null));
  return b.node('Unsqueeze', [x, b.int64s(norm)], { dtype: x.dtype, shape });
}

export function squeeze(b: GraphBuilder, x: Value, axes: readonly number[]): Value {
  const norm = axes.map((a) => normalizeAxis(a, x.shape.length, 'Squeeze'));
  return b.node('Squeeze', [x, b.int64s(norm)], { dtype: x.dtype, shape: x.shape.filter((_, i) => !norm.includes(i)) });
}

/** Broadcast x to a shape computed in the graph; `shape` is what the caller knows of the result. */
export function expand(b: GraphBuilder, x: Value, shapeValue: Value, shape: Shape): Value {
  return b.node('Expand', [x, shapeValue], { dtype: x.dtype, shape });
}

export function identity(b: GraphBuilder, x: Value): Value {
  return b.node('Identity', [x], { dtype: x.dtype, shape: x.shape });
}

// Ops on shapes, indices and masks: never on a differentiable path.

export function shapeOf(b: GraphBuilder, x: Value): Value {
  return b.node('Shape', [x], { dtype: 'int64', shape: [x.shape.length] });
}

/** The size of axis `axis` of x as a 1-element int64 vector. */
export function dimOf(b: GraphBuilder, x: Value, axis: number): Value {
  const a = normalizeAxis(axis, x.shape.length, 'dimOf');
  return b.node('Shape', [x], { dtype: 'int64', shape: [1] }, { start: int(a), end: int(a + 1) });
}

export function sizeOf(b: GraphBuilder, x: Value): Value {
  return b.node('Size', [x], { dtype: 'int64', shape: [] });
}

const compare = (op: string) => (b: GraphBuilder, x: Value, y: Value): Value => {
  checkSameDtype(x, y, op);
  return b.node(op, [x, y], { dtype: 'bool', shape: broadcastShape(x.shape, y.shape) });
};
export const equal = compare('Equal');
export const less = compare('Less');
export const lessOrEqual = compare('LessOrEqual');

export function and(b: GraphBuilder, x: Value, y: Value): Value {
  return b.node('And', [x, y], { dtype: 'bool', shape: broadcastShape(x.shape, y.shape) });
}

/** Range(start, limit, 1) of rank-0 int64 values. */
export function range(b: GraphBuilder, start: Value, limit: Value, length: Dim = null): Value {
  return b.node('Range', [start, limit, b.scalar('int64', 1)], { dtype: 'int64', shape: [length] });
}

export function cumsum(b: GraphBuilder, x: Value, axis: number): Value {
  return b.node('CumSum', [x, b.scalar('int64', normalizeAxis(axis, x.shape.length, 'CumSum'))], { dtype: x.dtype, shape: x.shape });
}

export function max(b: GraphBuilder, x: Value, y: Value): Value {
  checkSameDtype(x, y, 'Max');
  return b.node('Max', [x, y], { dtype: x.dtype, shape: broadcastShape(x.shape, y.shape) });
}

export function nonZero(b: GraphBuilder, x: Value): Value {
  return b.node('NonZero', [x], { dtype: 'int64', shape: [x.shape.length, null] });
}

// Quantized inference ops (the int8 encoder): never on a differentiated path, so they have no VJP.

/**
 * DynamicQuantizeLinear: float32 x to uint8 with one scale and zero point for the whole tensor, both computed at
 * run time from x's range (widened to include 0): scale = (max - min) / 255, zeroPoint = round(-min / scale).
 */
export function dynamicQuantizeLinear(b: GraphBuilder, x: Value): { data: Value; scale: Value; zeroPoint: Value } {
  if (x.dtype !== 'float32') throw new Error(`DynamicQuantizeLinear needs a float32 tensor but "${x.name}" is ${x.dtype}.`);
  const [data, scale, zeroPoint] = b.nodeOutputs('DynamicQuantizeLinear', [x], [
    { dtype: 'uint8', shape: x.shape },
    { dtype: 'float32', shape: [] },
    { dtype: 'uint8', shape: [] },
  ]);
  return { data: data!, scale: scale!, zeroPoint: zeroPoint! };
}

function integerMatmulShape(a: Value, w: Value, op: string): Dim[] {
  if (w.shape.length !== 2) throw new Error(`${op}: the weight "${w.name}" must be a [in, out] matrix.`);
  const k = a.shape[a.shape.length - 1] ?? null;
  if (typeof k === 'number' && typeof w.shape[0] === 'number' && k !== w.shape[0]) {
    throw new Error(`${op}: inner sizes differ ("${a.name}" has ${k} columns, "${w.name}" has ${w.shape[0]} rows).`);
  }
  return [...a.shape.slice(0, -1), w.shape[1] ?? null];
}

/** MatMulInteger: uint8 a (minus its zero point) times int8 w [in, out] (zero point 0), accumulated in int32. */
export function matMulInteger(b: GraphBuilder, a: Value, w: Value, aZeroPoint: Value): Value {
  if (a.dtype !== 'uint8' || w.dtype !== 'int8' || aZeroPoint.dtype !== 'uint8') {
    throw new Error(`MatMulInteger: expected uint8 "${a.name}", int8 "${w.name}" and a uint8 zero point, got ${a.dtype}, ${w.dtype}, ${aZeroPoint.dtype}.`);
  }
  return b.node('MatMulInteger', [a, w, aZeroPoint], { dtype: 'int32', shape: integerMatmulShape(a, w, 'MatMulInteger') });
}

/**
 * onnxruntime's contrib DynamicQuantizeMatMul: float32 a quantized to uint8 per tensor at run time, times int8 w
 * [in, out] with one float32 scale per output column (zero point 0), dequantized, plus an optional bias [out].
 */
export function dynamicQuantizeMatMul(b: GraphBuilder, a: Value, w: Value, wScale: Value, bias?: Value): Value {
  if (a.dtype !== 'float32' || w.dtype !== 'int8' || wScale.dtype !== 'float32') {
    throw new Error(`DynamicQuantizeMatMul: expected float32 "${a.name}", int8 "${w.name}" and float32 scales, got ${a.dtype}, ${w.dtype}, ${wScale.dtype}.`);
  }
  // Inputs: A, B, b_scale, b_zero_point (optional, left empty: symmetric weights), bias (optional).
  const none: Value = { name: '', dtype: 'int8', shape: [] };
  const inputs = bias ? [a, w, wScale, none, bias] : [a, w, wScale];
  const [y] = b.nodeOutputs('DynamicQuantizeMatMul', inputs, [{ dtype: 'float32', shape: integerMatmulShape(a, w, 'DynamicQuantizeMatMul') }], { domain: MS_DOMAIN });
  return y!;
}

// Fused inference kernels (forward-only graphs such as the serving encoder): no VJP, so never in a training graph.

/** ONNX LayerNormalization (opset 17) over the last axis: (x - mean) / sqrt(var + eps) * gamma + beta. */
export function layerNormalization(b: GraphBuilder, x: Value, gamma: Value, beta: Value, eps: number): Value {
  checkFloat(x, 'LayerNormalization');
  checkSameDtype(x, gamma, 'LayerNormalization');
  checkSameDtype(x, beta, 'LayerNormalization');
  return b.node('LayerNormalization', [x, gamma, beta], { dtype: x.dtype, shape: x.shape }, { axis: int(-1), epsilon: float(eps) });
}

/** onnxruntime's contrib Gelu (exact erf form, float32): x * (1 + erf(x / sqrt 2)) / 2. */
export function gelu(b: GraphBuilder, x: Value): Value {
  if (x.dtype !== 'float32') throw new Error(`Gelu needs a float32 tensor but "${x.name}" is ${x.dtype}.`);
  const [y] = b.nodeOutputs('Gelu', [x], [{ dtype: x.dtype, shape: x.shape }], { domain: MS_DOMAIN });
  return y!;
}

/**
 * onnxruntime's contrib MultiHeadAttention (float32), for self-attention without a cache: q, k, v [batch, seq,
 * heads*headDim] (unsplit), keyMask int32 [batch, seq] (1 attend, 0 padding). softmax(q k^T / sqrt(headDim) + mask)
 * v per head, returned as [batch, seq, heads*headDim].
 */
export function multiHeadAttention(b: GraphBuilder, q: Value, k: Value, v: Value, keyMask: Value, numHeads: number): Value {
  checkSameDtype(q, k, 'MultiHeadAttention');
  checkSameDtype(q, v, 'MultiHeadAttention');
  if (q.dtype !== 'float32' || keyMask.dtype !== 'int32') throw new Error(`MultiHeadAttention: expected float32 q, k, v and an int32 mask, got ${q.dtype} and ${keyMask.dtype}.`);
  const none: Value = { name: '', dtype: 'float32', shape: [] };
  const [y] = b.nodeOutputs('MultiHeadAttention', [q, k, v, none, keyMask], [{ dtype: 'float32', shape: q.shape }], { domain: MS_DOMAIN, attrs: { num_heads: int(numHeads) } });
  return y!;
}
