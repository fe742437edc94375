// Standard ONNX ops as builder helpers: each records one node and infers its output dtype and shape (known
// sizes, symbolic names or null) so later helpers and the VJPs can reason about broadcasting statically.
import { int, ints, type DType, type Dim, type GraphBuilder, type Shape, type Value } from './graph-builder.ts';

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

const ONNX_DTYPE_CODE: Record<DType, number> = { float32: 1, float64: 11, int64: 7, bool: 9 };

export function cast(b: GraphBuilder, x: Value, to: DType): Value {
  return b.node('Cast', [x], { dtype: to, shape: x.shape }, { to: int(ONNX_DTYPE_CODE[to]) });
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
