import type { ArtifactStore } from '../lib/artifact-store/index.ts';

export interface SmokeActivities {
  writeAndReadBack(input: { key: string; text: string }): Promise<{ key: string; sha256: string; bytes: number; text: string }>;
}

export function createSmokeActivities(deps: { store: ArtifactStore }): SmokeActivities {
  return {
    async writeAndReadBack({ key, text }) {
      const ref = await deps.store.put(key, text);
      const back = new TextDecoder().decode(await deps.store.get(ref));
      return { ...ref, text: back };
    },
  };
}
