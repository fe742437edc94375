// Central finite differences against the autodiff gradient of a tiny float64 graph.
import { appendGradients } from '../../../lib/onnx/autodiff.ts';
import { GraphBuilder, type Value } from '../../../lib/onnx/graph-builder.ts';
import * as op from '../../../lib/onnx/ops.ts';
import { ModelSession, hostTensor, type HostTensor } from '../../../lib/onnx/session.ts';
import { Mulberry32 } from '../../../lib/random/prng.ts';

export interface CheckInput {
  readonly name: string;
  readonly dims: readonly number[];
  /** Symbolic/unknown dims declared in the graph (defaults to dims). */
  readonly declared?: readonly (number | string | null)[];
  readonly values?: readonly number[];
}

/**
 * Build f over float64 inputs, reduce it to a scalar with fixed random weights (so every output element matters),
 * differentiate, and return the largest relative error between autodiff and central differences (step h).
 */
export async function gradientCheck(
  inputs: readonly CheckInput[],
  f: (b: GraphBuilder, xs: Value[]) => Value,
  options: { seed?: number; h?: number; extra?: Record<string, HostTensor> ; extraInputs?: (b: GraphBuilder) => void } = {},
): Promise<{ maxRelError: number; analytic: Float64Array[]; numeric: Float64Array[] }> {
  const rng = new Mulberry32(options.seed ?? 7);
  const b = new GraphBuilder('gradient_check');
  const xs = inputs.map((i) => b.input(i.name, 'float64', i.declared ?? i.dims));
  options.extraInputs?.(b);
  const y = f(b, xs);
  let loss: Value;
  if (y.shape.length === 0) loss = y;
  else {
    const dims = y.shape.map((d) => {
      if (typeof d !== 'number') throw new Error('gradientCheck needs a statically known output shape');
      return d;
    });
    const count = dims.reduce((a, c) => a * c, 1);
    const weights = b.constant('float64', dims, Float64Array.from({ length: count }, () => rng.uniform(1)));
    loss = op.reduceSum(b, op.mul(b, y, weights), [...dims.keys()], false);
  }
  const grads = appendGradients(b, loss, xs);
  b.output(loss, 'loss');
  xs.forEach((x) => b.output(grads.get(x.name) as Value, `grad_${x.name}`));
  const session = await ModelSession.create(b.toBytes(), { intraOpThreads: 1, optimization: 'basic', label: 'gradient check graph' });
  const values = inputs.map((i) => Float64Array.from(i.values ?? Array.from({ length: i.dims.reduce((a, c) => a * c, 1) }, () => rng.uniform(1))));
  const feeds = (vals: Float64Array[]): Record<string, HostTensor> => ({
    ...Object.fromEntries(inputs.map((i, k) => [i.name, hostTensor('float64', i.dims, vals[k] as Float64Array)])),
    ...(options.extra ?? {}),
  });
  const out = await session.run(feeds(values));
  const analytic = inputs.map((i) => Float64Array.from(out[`grad_${i.name}`]?.data as Float64Array));
  const h = options.h ?? 1e-6;
  const numeric: Float64Array[] = [];
  let maxRelError = 0;
  for (let k = 0; k < inputs.length; k++) {
    const v = values[k] as Float64Array;
    const num = new Float64Array(v.length);
    for (let j = 0; j < v.length; j++) {
      const orig = v[j] as number;
      v[j] = orig + h;
      const plus = (await session.run(feeds(values), ['loss'])).loss?.data[0] as number;
      v[j] = orig - h;
      const minus = (await session.run(feeds(values), ['loss'])).loss?.data[0] as number;
      v[j] = orig;
      num[j] = (plus - minus) / (2 * h);
    }
    numeric.push(num);
    const a = analytic[k] as Float64Array;
    const scale = Math.max(1e-3, ...Array.from(num, Math.abs));
    for (let j = 0; j < num.length; j++) maxRelError = Math.max(maxRelError, Math.abs((a[j] as number) - (num[j] as number)) / scale);
  }
  await session.release();
  return { maxRelError, analytic, numeric };
}
