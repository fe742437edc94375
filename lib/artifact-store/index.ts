import { LocalArtifactStore } from './local-artifact-store.ts';
import { S3ArtifactStore, type S3Settings } from './s3-artifact-store.ts';
import type { ArtifactStore } from './artifact-store.ts';

export type { ArtifactStore } from './artifact-store.ts';
export { ArtifactWriteError, sha256Hex } from './artifact-store.ts';
export { LocalArtifactStore } from './local-artifact-store.ts';
export { S3ArtifactStore, type S3Settings } from './s3-artifact-store.ts';

export type StoreSettings = ({ kind: 's3' } & S3Settings) | { kind: 'local'; dir: string };

export function createArtifactStore(settings: StoreSettings): ArtifactStore {
  switch (settings.kind) {
    case 's3':
      return new S3ArtifactStore(settings);
    case 'local':
      return new LocalArtifactStore(settings.dir);
  }
}
