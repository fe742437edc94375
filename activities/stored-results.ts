import type { z } from 'zod';
import type { ArtifactRef } from '../common/artifact-ref.ts';
import type { ArtifactStore } from '../lib/artifact-store/index.ts';
import { parseStoredJson } from '../lib/artifact-store/stored-json.ts';
import { markReused } from './activity-costs.ts';

export { parseStoredJson };

/**
 * The stored result of a stage run with the same inputs, or undefined when there is none (or reuse is off). A
 * stored record that does not parse is corrupt: the error names the key and the way out. A found result marks the
 * activity attempt as reused, so its cost record says so.
 */
export async function storedResult<T>(store: ArtifactStore, key: string, reuse: boolean, schema: z.ZodType<T>, what: string): Promise<T | undefined> {
  const value = await storedPart(store, key, reuse, schema, what);
  if (value !== undefined) markReused();
  return value;
}

/**
 * A stored intermediate the activity still does its work around (weak-filter statistics shared by the seeds of a
 * system, the starting encoder's dev score shared by every training): read like `storedResult`, but the attempt is
 * not marked reused, so its cost still counts in the stage's throughput.
 */
export async function storedPart<T>(store: ArtifactStore, key: string, reuse: boolean, schema: z.ZodType<T>, what: string): Promise<T | undefined> {
  if (!reuse) return undefined;
  const ref = await store.stat(key);
  if (!ref) return undefined;
  return parseStoredJson(await store.get(ref), key, schema, what);
}

/**
 * Returns the stored artifact under `key` when it exists and reuse is allowed; otherwise computes and stores it.
 * `compute` must be deterministic for the key's inputs, so concurrent or repeated writers store equal bytes.
 */
export async function storeOnce(
  store: ArtifactStore,
  key: string,
  reuse: boolean,
  compute: () => Promise<Uint8Array | string>,
): Promise<{ ref: ArtifactRef; reused: boolean }> {
  if (reuse) {
    const existing = await store.stat(key);
    if (existing) return { ref: existing, reused: true };
  }
  return { ref: await store.put(key, await compute()), reused: false };
}
