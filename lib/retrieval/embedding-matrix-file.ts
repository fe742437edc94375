// Corpus embeddings (an EmbeddingMatrix: ids, dimension, row-major vectors) as bytes, in the float32 container, so
// every evaluation with the same encoder and corpus reads them instead of encoding the corpus again.
import { CorruptArtifactError } from '../../common/errors.ts';
import { packFloat32, unpackFloat32 } from '../models/float32-container.ts';
import type { EmbeddingMatrix } from './dense-search.ts';

const EMBEDDINGS_FORMAT = 'sptar-embeddings@1';

export function serializeEmbeddings(m: EmbeddingMatrix): Uint8Array {
  return packFloat32({ format: EMBEDDINGS_FORMAT, lengths: [m.data.length], dim: m.dim, ids: m.ids }, [m.data]);
}

export function deserializeEmbeddings(bytes: Uint8Array, source: string): EmbeddingMatrix {
  const { header, tensors } = unpackFloat32(bytes, source, EMBEDDINGS_FORMAT);
  const ids = header['ids'] as string[];
  const dim = header['dim'] as number;
  const data = tensors[0]!;
  if (!Array.isArray(ids) || data.length !== ids.length * dim) throw new CorruptArtifactError(`${source}: ${data.length} floats do not make ${ids.length} vectors of ${dim}`);
  return { ids, dim, data };
}
