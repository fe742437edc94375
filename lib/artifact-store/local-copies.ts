import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ArtifactRef } from '../../common/artifact-ref.ts';
import type { ArtifactStore } from './index.ts';

/**
 * Runs `fn` with a scratch directory that is removed afterwards. Activities use scratch space only for the
 * duration of one call; nothing another activity needs is ever left on local disk.
 */
export async function withScratch<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'sptar-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Downloads (and verifies) artifacts into a scratch directory, for readers that stream from files. */
export async function withLocalCopies<T>(store: ArtifactStore, refs: Record<string, ArtifactRef>, fn: (paths: Record<string, string>, dir: string) => Promise<T>): Promise<T> {
  return withScratch(async (dir) => {
    const paths: Record<string, string> = {};
    for (const [name, ref] of Object.entries(refs)) {
      paths[name] = join(dir, name);
      await store.getFile(ref, paths[name]);
    }
    return fn(paths, dir);
  });
}
