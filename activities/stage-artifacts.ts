import { createHash } from 'node:crypto';
import type { ArtifactRef } from '../common/artifact-ref.ts';
import type { ArtifactStore } from './artifact-store/index.ts';

// Artifact keys derived from inputs: `{scope}/{stage}/{inputHash}/{name}`. The input hash covers the config slice
// a stage uses, the hashes of its input artifacts and the stage's code version, so the same inputs give the same
// key: a retried or repeated stage finds its output and skips the work.

/** Bump a stage's version when its output for the same inputs changes; old artifacts are then not reused. */
export const STAGE_CODE_VERSIONS = {
  prepare: 1,
  'bm25-index': 1,
  'tune-prompt': 1,
  'example-group': 1,
  'weak-filter': 1,
  'train-retriever': 1,
  'corpus-embeddings': 1,
  evaluate: 1,
  report: 1,
} as const;
export type VersionedStage = keyof typeof STAGE_CODE_VERSIONS;

export interface StageScope {
  /** `runName` when artifacts may be reused across runs, the workflow id when they must not. */
  readonly scope: string;
  readonly stage: VersionedStage;
  readonly inputHash: string;
}

/** Canonical JSON: object keys sorted, so logically equal inputs hash equally. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function stageScope(scope: string, stage: VersionedStage, configSlice: unknown, inputs: readonly ArtifactRef[]): StageScope {
  const h = createHash('sha256');
  h.update(`${stage}@${STAGE_CODE_VERSIONS[stage]}\n`);
  h.update(canonicalJson(configSlice));
  for (const ref of inputs) h.update(`\n${ref.sha256}`);
  return { scope, stage, inputHash: h.digest('hex').slice(0, 16) };
}

export function stageKey(s: StageScope, name: string): string {
  return `${s.scope}/${s.stage}/${s.inputHash}/${name}`;
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
