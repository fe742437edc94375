// Vector-Jacobian products of the standard ops, each written as more builder nodes. A rule receives the forward
// node, the gradient of its output and which inputs need a gradient; it returns one gradient (or undefined) per
// input. Broadcasting is undone by summing the gradient back to the input's shape.
import type { GraphBuilder, NodeRecord, Value } from './graph-builder.ts';
import { int } from './graph-builder.ts';
import * as op from './ops.ts';

interface VjpArgs {
  readonly b: GraphBuilder;
  readonly node: NodeRecord;
  readonly grad: Value;
  readonly needs: readonly boolean[];
}

type VjpRule = (args: VjpArgs) => (Value | undefined)[];

/** Sum a broadcast gradient back to the shape of `target` (static axes when shapes tell, run-time axes if not). */
function sumToShape(b: GraphBuilder, g: Value, target: Value): Value {
  const rx = target.shape.length;
  let cur = g;
  if (cur.shape.length > rx) cur = op.reduceSum(b, cur, [...Array(cur.shape.length - rx).keys()], false);
  const staticAxes: number[] = [];
  let ambiguous = false;
  for (let i = 0; i < rx; i++) {
    const dx = target.shape[i] ?? null;
    const dg = cur.shape[i] ?? null;
    if (op.sameDim(dx, dg)) continue;
    if (dx === 1) staticAxes.push(i);
    else if (typeof dx !== 'number') ambiguous = true;
  }
  if (!ambiguous) return staticAxes.length > 0 ? op.reduceSum(b, cur, staticAxes, true) : cur;
  // Axes where the target has size 1 at run time; summing a size-1 axis of the gradient changes nothing.
  const ones = op.equal(b, op.shapeOf(b, target), b.scalar('int64', 1));
  const axes = op.reshape(b, op.nonZero(b, ones), [-1]);
  return b.node('ReduceSum', [cur, axes], { dtype: cur.dtype, shape: target.shape }, { keepdims: int(1), noop_with_empty_axes: int(1) });
}

function input(node: NodeRecord, i: number): Value {
  const v = node.inputs[i];
  if (!v) throw new Error(`${node.opType} node has no input ${i}.`);
  return v;
}

function output(node: NodeRecord): Value {
  const v = node.outputs[0];
  if (!v) throw new Error(`${node.opType} node has no output.`);
  return v;
}

function meta<T>(node: NodeRecord, key: string): T {
  if (!(key in node.meta)) throw new Error(`${node.opType} node lacks builder metadata "${key}"; build it with the helpers in ops.ts.`);
  return node.meta[key] as T;
}

/** Pads that place a slice's gradient back at [begin, end) of each sliced axis; bounds are 1-element int64s. */
function padBack(b: GraphBuilder, g: Value, x: Value, bounds: Map<number, { begin: Value; after: Value }>): Value {
  const zero = b.int64s([0]);
  const befores: Value[] = [];
  const afters: Value[] = [];
  for (let i = 0; i < x.shape.length; i++) {
    const bd = bounds.get(i);
    befores.push(bd ? bd.begin : zero);
    afters.push(bd ? bd.after : zero);
  }
  const pads = op.concat(b, [...befores, ...afters], 0);
  return b.node('Pad', [g, pads], { dtype: g.dtype, shape: x.shape }, { mode: { kind: 'string', value: 'constant' } });
}

function sliceVjp({ b, node, grad }: VjpArgs): (Value | undefined)[] {
  const x = input(node, 0);
  const axes = meta<number[]>(node, 'axes');
  const bounds = new Map<number, { begin: Value; after: Value }>();
  const staticStarts = node.meta.starts as number[] | undefined;
  const staticEnds = node.meta.ends as number[] | undefined;
  axes.forEach((axis, k) => {
    const d = op.dimOf(b, x, axis);
    let begin: Value;
    let end: Value;
    if (staticStarts && staticEnds) {
      // Normalise constant bounds the way Slice does: negative counts from the end, then clamp to [0, d].
      const norm = (v: number): Value =>
        v < 0 ? op.max(b, op.add(b, d, b.int64s([v])), b.int64s([0])) : b.node('Min', [d, b.int64s([v])], { dtype: 'int64', shape: [1] });
      begin = norm(staticStarts[k] ?? 0);
      end = norm(staticEnds[k] ?? 0);
    } else {
      // Run-time bounds are produced in range by the helpers that create them.
      begin = op.slice(b, input(node, 1), [k], [k + 1], [0]);
      end = op.slice(b, input(node, 2), [k], [k + 1], [0]);
    }
    bounds.set(axis, { begin, after: op.sub(b, d, end) });
  });
  return [padBack(b, grad, x, bounds)];
}

function concatVjp({ b, node, grad, needs }: VjpArgs): (Value | undefined)[] {
  const axis = meta<number>(node, 'axis');
  let start: Value = b.int64s([0]);
  return node.inputs.map((x, i) => {
    const size = op.dimOf(b, x, axis);
    const end = op.add(b, start, size);
    const g = needs[i] ? op.sliceDynamic(b, grad, start, end, [axis], x.shape) : undefined;
    start = end;
    return g;
  });
}

function matmulVjp({ b, node, grad, needs }: VjpArgs): (Value | undefined)[] {
  const a = input(node, 0);
  const w = input(node, 1);
  let ga: Value | undefined;
  let gw: Value | undefined;
  if (needs[0]) ga = sumToShape(b, op.matmul(b, grad, op.transposeLast2(b, w)), a);
  if (needs[1]) {
    const k = w.shape[0];
    const n = w.shape[1];
    if (w.shape.length === 2 && typeof k === 'number' && typeof n === 'number' && a.shape.length > 2) {
      // A weight shared over batch axes: one large GEMM over flattened rows instead of a batched product + sum.
      gw = op.matmul(b, op.transposeLast2(b, op.reshape(b, a, [-1, k])), op.reshape(b, grad, [-1, n]));
    } else {
      gw = sumToShape(b, op.matmul(b, op.transposeLast2(b, a), grad), w);
    }
  }
  return [ga, gw];
}

function reduceVjp(mean: boolean) {
  return ({ b, node, grad }: VjpArgs): (Value | undefined)[] => {
    const x = input(node, 0);
    const axes = meta<number[]>(node, 'axes');
    const keepdims = meta<boolean>(node, 'keepdims');
    let g = keepdims ? grad : op.unsqueeze(b, grad, axes);
    if (mean) {
      const dims = axes.map((a) => x.shape[a]);
      if (dims.every((d) => typeof d === 'number')) {
        g = op.scale(b, g, 1 / (dims as number[]).reduce((p, c) => p * c, 1));
      } else {
        const count = op.div(b, op.cast(b, op.sizeOf(b, x), x.dtype), op.cast(b, op.sizeOf(b, output(node)), x.dtype));
        g = op.div(b, g, count);
      }
    }
    return [op.expand(b, g, op.shapeOf(b, x), x.shape)];
  };
}

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

export const VJP_RULES: Readonly<Record<string, VjpRule>> = {
  Identity: ({ grad }) => [grad],
  Add: ({ b, node, grad, needs }) => [
    needs[0] ? sumToShape(b, grad, input(node, 0)) : undefined,
    needs[1] ? sumToShape(b, grad, input(node, 1)) : undefined,
  ],
  Sub: ({ b, node, grad, needs }) => [
    needs[0] ? sumToShape(b, grad, input(node, 0)) : undefined,
    needs[1] ? sumToShape(b, op.neg(b, grad), input(node, 1)) : undefined,
  ],
  Mul: ({ b, node, grad, needs }) => [
    needs[0] ? sumToShape(b, op.mul(b, grad, input(node, 1)), input(node, 0)) : undefined,
    needs[1] ? sumToShape(b, op.mul(b, grad, input(node, 0)), input(node, 1)) : undefined,
  ],
  Div: ({ b, node, grad, needs }) => [
    needs[0] ? sumToShape(b, op.div(b, grad, input(node, 1)), input(node, 0)) : undefined,
    needs[1] ? sumToShape(b, op.neg(b, op.div(b, op.mul(b, grad, output(node)), input(node, 1))), input(node, 1)) : undefined,
  ],
  Neg: ({ b, grad }) => [op.neg(b, grad)],
  Sqrt: ({ b, node, grad }) => [op.div(b, grad, op.scale(b, output(node), 2))],
  Pow: ({ b, node, grad }) => {
    const p = meta<number>(node, 'exponent');
    const x = input(node, 0);
    const d = p === 1 ? b.scalar(x.dtype, 1) : p === 2 ? op.scale(b, x, 2) : op.scale(b, op.pow(b, x, p - 1), p);
    return [op.mul(b, grad, d), undefined];
  },
  Exp: ({ b, node, grad }) => [op.mul(b, grad, output(node))],
  Log: ({ b, node, grad }) => [op.div(b, grad, input(node, 0))],
  Tanh: ({ b, node, grad }) => {
    const y = output(node);
    return [op.mul(b, grad, op.sub(b, b.scalar(y.dtype, 1), op.mul(b, y, y)))];
  },
  Sigmoid: ({ b, node, grad }) => {
    const y = output(node);
    return [op.mul(b, grad, op.mul(b, y, op.sub(b, b.scalar(y.dtype, 1), y)))];
  },
  Erf: ({ b, node, grad }) => {
    const x = input(node, 0);
    return [op.mul(b, grad, op.scale(b, op.exp(b, op.neg(b, op.mul(b, x, x))), TWO_OVER_SQRT_PI))];
  },
  Sin: ({ b, node, grad }) => [op.mul(b, grad, op.cos(b, input(node, 0)))],
  Cos: ({ b, node, grad }) => [op.neg(b, op.mul(b, grad, op.sin(b, input(node, 0))))],
  MatMul: matmulVjp,
  Softmax: ({ b, node, grad }) => {
    const y = output(node);
    const axis = meta<number>(node, 'axis');
    return [op.mul(b, y, op.sub(b, grad, op.reduceSum(b, op.mul(b, grad, y), [axis], true)))];
  },
  LogSoftmax: ({ b, node, grad }) => {
    const axis = meta<number>(node, 'axis');
    return [op.sub(b, grad, op.mul(b, op.exp(b, output(node)), op.reduceSum(b, grad, [axis], true)))];
  },
  ReduceSum: reduceVjp(false),
  ReduceMean: reduceVjp(true),
  Reshape: ({ b, node, grad }) => {
    const x = input(node, 0);
    return [op.reshapeTo(b, grad, op.shapeOf(b, x), x.shape), undefined];
  },
  Unsqueeze: ({ b, node, grad }) => {
    const x = input(node, 0);
    return [op.reshapeTo(b, grad, op.shapeOf(b, x), x.shape), undefined];
  },
  Squeeze: ({ b, node, grad }) => {
    const x = input(node, 0);
    return [op.reshapeTo(b, grad, op.shapeOf(b, x), x.shape), undefined];
  },
  Transpose: ({ b, node, grad }) => {
    const perm = meta<number[]>(node, 'perm');
    const inverse = perm.map((_, i) => perm.indexOf(i));
    return [op.transpose(b, grad, inverse)];
  },
  Concat: concatVjp,
  Slice: sliceVjp,
  Gather: ({ b, node, grad }) => {
    const data = input(node, 0);
    if (meta<number>(node, 'axis') !== 0) throw new Error(`Gather VJP supports axis 0 (embedding lookup) only; node output "${output(node).name}".`);
    // Rows picked several times receive the sum of their gradients (ScatterND with reduction add).
    const zeros = op.expand(b, b.scalar(data.dtype, 0), op.shapeOf(b, data), data.shape);
    const idx = op.unsqueeze(b, input(node, 1), [-1]);
    const g = b.node('ScatterND', [zeros, idx, grad], { dtype: data.dtype, shape: data.shape }, { reduction: { kind: 'string', value: 'add' } });
    return [g, undefined];
  },
  Where: ({ b, node, grad, needs }) => {
    const zero = b.scalar(grad.dtype, 0);
    const cond = input(node, 0);
    return [
      undefined,
      needs[1] ? sumToShape(b, op.where(b, cond, grad, zero), input(node, 1)) : undefined,
      needs[2] ? sumToShape(b, op.where(b, cond, zero, grad), input(node, 2)) : undefined,
    ];
  },
  Cast: ({ b, node, grad }) => [op.cast(b, grad, input(node, 0).dtype)],
  Expand: ({ b, node, grad }) => [sumToShape(b, grad, input(node, 0)), undefined],
};
