// Small helpers for running the model graphs on tiny inputs in tests.
import type { DecoderConfig } from '../../../lib/models/decoder-graphs.ts';
import { DECODER_NAMES } from '../../../lib/models/decoder-graphs.ts';
import type { GraphBuilder } from '../../../lib/onnx/graph-builder.ts';
import { ModelSession, hostTensor, type HostTensor } from '../../../lib/onnx/session.ts';

export function ints(dims: number[], values: readonly number[]): HostTensor {
  return hostTensor('int64', dims, BigInt64Array.from(values.map((v) => BigInt(v))));
}

export function f64(dims: number[], values: readonly number[]): HostTensor {
  return hostTensor('float64', dims, Float64Array.from(values));
}

export async function session(graph: GraphBuilder, dtype: 'float32' | 'float64' = 'float64'): Promise<ModelSession> {
  return ModelSession.create(graph.toBytes(), { intraOpThreads: 1, optimization: dtype === 'float64' ? 'basic' : 'all', label: graph.graphName });
}

export function kvDims(cfg: DecoderConfig): { heads: number; headDim: number } {
  return cfg.architecture === 'llama' ? { heads: cfg.numKvHeads, headDim: cfg.headDim } : { heads: cfg.numHeads, headDim: cfg.hiddenSize / cfg.numHeads };
}

/** Empty caches for a first (prefill) step. */
export function emptyPast(cfg: DecoderConfig, batch: number, dtype: 'float32' | 'float64'): Record<string, HostTensor> {
  const { heads, headDim } = kvDims(cfg);
  const out: Record<string, HostTensor> = {};
  const empty = () => hostTensor(dtype, [batch, heads, 0, headDim], dtype === 'float64' ? new Float64Array(0) : new Float32Array(0));
  for (let i = 0; i < cfg.numLayers; i++) {
    out[DECODER_NAMES.pastKey(i)] = empty();
    out[DECODER_NAMES.pastValue(i)] = empty();
  }
  return out;
}

/** Present outputs renamed as the next step's past inputs. */
export function presentAsPast(cfg: DecoderConfig, outputs: Record<string, HostTensor>): Record<string, HostTensor> {
  const out: Record<string, HostTensor> = {};
  for (let i = 0; i < cfg.numLayers; i++) {
    out[DECODER_NAMES.pastKey(i)] = outputs[DECODER_NAMES.presentKey(i)] as HostTensor;
    out[DECODER_NAMES.pastValue(i)] = outputs[DECODER_NAMES.presentValue(i)] as HostTensor;
  }
  return out;
}

/** An empty (length-0) shared prefix for a step graph built with sharedPrefix. */
export function prefixFeeds(cfg: DecoderConfig, length: 0): Record<string, HostTensor> {
  const { heads, headDim } = kvDims(cfg);
  const out: Record<string, HostTensor> = {};
  for (let i = 0; i < cfg.numLayers; i++) {
    out[DECODER_NAMES.prefixKey(i)] = hostTensor('float64', [1, heads, length, headDim], new Float64Array(0));
    out[DECODER_NAMES.prefixValue(i)] = hostTensor('float64', [1, heads, length, headDim], new Float64Array(0));
  }
  return out;
}

/** Batch-1 present outputs renamed as the shared-prefix inputs of later steps. */
export function presentAsPrefix(cfg: DecoderConfig, outputs: Record<string, HostTensor>): Record<string, HostTensor> {
  const out: Record<string, HostTensor> = {};
  for (let i = 0; i < cfg.numLayers; i++) {
    out[DECODER_NAMES.prefixKey(i)] = outputs[DECODER_NAMES.presentKey(i)] as HostTensor;
    out[DECODER_NAMES.prefixValue(i)] = outputs[DECODER_NAMES.presentValue(i)] as HostTensor;
  }
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

/** Central differences of output `loss` with respect to chosen elements of one float64 input. */
export async function numericGradient(
  s: ModelSession,
  feeds: Record<string, HostTensor>,
  input: string,
  indices: readonly number[],
  h = 1e-6,
): Promise<number[]> {
  const t = feeds[input];
  if (!t || !(t.data instanceof Float64Array)) throw new Error(`numericGradient: ${input} must be a float64 feed`);
  const data = t.data;
  const out: number[] = [];
  for (const i of indices) {
    const orig = data[i] as number;
    data[i] = orig + h;
    const plus = (await s.run(feeds, ['loss'])).loss?.data[0] as number;
    data[i] = orig - h;
    const minus = (await s.run(feeds, ['loss'])).loss?.data[0] as number;
    data[i] = orig;
    out.push((plus - minus) / (2 * h));
  }
  return out;
}
