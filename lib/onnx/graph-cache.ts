// Built graphs cached on disk under a content hash of what determines them, so each graph is built once.
// Frozen weights live inside the cached file as initializers (one self-contained .onnx per graph: SmolLM2 in
// float32 is ~540 MB, well under protobuf's 2 GB limit, and onnxruntime can pre-pack initializer matrices, which it
// cannot do for weights fed as inputs).
import { createHash } from 'node:crypto';
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Bumped whenever graph construction changes in a way that alters the bytes of a built graph. */
const GRAPH_FORMAT_VERSION = 3;

export const DEFAULT_GRAPH_CACHE_DIR = '.cache/graphs';

interface GraphCacheKey {
  readonly architecture: string;
  /** Which graph of the model, e.g. 'decoder-step' or 'soft-prompt-loss'. */
  readonly graph: string;
  readonly weightsDigest: string;
  readonly options: Readonly<Record<string, unknown>>;
}

/** Named dense tensors, such as a model's weights (lib/models' WeightMap). */
type NamedTensors = ReadonlyMap<string, { readonly dims: readonly number[]; readonly data: ArrayBufferView }>;

/** sha256 over names, dims and (unless `shapesOnly`) the values of every tensor, in name order. */
export function weightsDigest(weights: NamedTensors, shapesOnly = false): string {
  const hash = createHash('sha256');
  for (const name of [...weights.keys()].sort()) {
    const t = weights.get(name);
    if (!t) continue;
    hash.update(`${name}:${t.dims.join('x')};`);
    if (!shapesOnly) hash.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return hash.digest('hex');
}

function graphCacheHash(key: GraphCacheKey): string {
  const canonical = JSON.stringify({ v: GRAPH_FORMAT_VERSION, ...key, options: Object.fromEntries(Object.entries(key.options).sort(([a], [b]) => a.localeCompare(b))) });
  return createHash('sha256').update(canonical).digest('hex');
}

/** Path of the cached graph for `key`, building and writing it (atomically) on the first call. */
export async function cachedGraphPath(key: GraphCacheKey, build: () => Uint8Array, dir: string = DEFAULT_GRAPH_CACHE_DIR): Promise<{ path: string; built: boolean }> {
  const path = join(dir, `${key.architecture}-${key.graph}-${graphCacheHash(key).slice(0, 24)}.onnx`);
  try {
    if ((await stat(path)).size > 0) return { path, built: false };
  } catch {
    // Not cached yet.
  }
  await mkdir(dir, { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, build());
  await rename(tmp, path);
  return { path, built: true };
}
