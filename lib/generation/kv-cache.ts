// Row operations on key/value caches: broadcasting a shared prefix to a batch, and dropping finished rows.
import type { KvCache, KvTensor } from './decoder-step.ts';

function mapTensor(t: KvTensor, rows: readonly number[]): KvTensor {
  const [, heads, seq, dim] = t.dims;
  const rowSize = heads * seq * dim;
  const data = new Float32Array(rows.length * rowSize);
  rows.forEach((r, i) => data.set(t.data.subarray(r * rowSize, (r + 1) * rowSize), i * rowSize));
  return { dims: [rows.length, heads, seq, dim], data };
}

/** A cache holding the given rows of `cache`, in that order (rows may repeat). */
export function selectCacheRows(cache: KvCache, rows: readonly number[]): KvCache {
  return cache.map((layer) => ({ key: mapTensor(layer.key, rows), value: mapTensor(layer.value, rows) }));
}

/** Repeats a batch-1 cache `batchSize` times. */
export function broadcastCache(cache: KvCache, batchSize: number): KvCache {
  const first = cache[0];
  if (first && first.key.dims[0] !== 1) throw new Error(`broadcastCache expects a batch-1 cache, got batch ${first.key.dims[0]}`);
  return selectCacheRows(cache, new Array<number>(batchSize).fill(0));
}
