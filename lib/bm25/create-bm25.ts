// Chooses the BM25 backend by configuration and loads a stored index of either kind.
import { ConfigError } from '../../common/errors.ts';
import { ANSERINI_BM25, type Bm25Backend, type Bm25Index, type Bm25Params, type DocumentSource } from './bm25-types.ts';
import { buildCompactBm25, CompactBm25Index } from './compact-bm25.ts';
import { unpackIndex } from './index-container.ts';
import { buildLunrBm25, LunrBm25Index } from './lunr-bm25.ts';
import { CorruptArtifactError } from '../../common/errors.ts';

interface Bm25Options extends Partial<Bm25Params> {
  /** 'compact' (default) scales to millions of documents; 'lunr' is the reference library, for small corpora. */
  readonly backend?: Bm25Backend;
}

export function indexDocuments(docs: DocumentSource, options: Bm25Options = {}): Promise<Bm25Index> {
  const params: Bm25Params = { k1: options.k1 ?? ANSERINI_BM25.k1, b: options.b ?? ANSERINI_BM25.b };
  if (!(params.k1 >= 0) || !(params.b >= 0 && params.b <= 1)) throw new ConfigError(`BM25 needs k1 >= 0 and 0 <= b <= 1, got k1=${params.k1}, b=${params.b}`);
  const backend = options.backend ?? 'compact';
  switch (backend) {
    case 'compact':
      return buildCompactBm25(docs, params);
    case 'lunr':
      return buildLunrBm25(docs, params);
    default:
      throw new ConfigError(`unknown BM25 backend "${String(backend satisfies never)}"; use "compact" or "lunr"`);
  }
}

export function deserializeBm25Index(bytes: Uint8Array): Bm25Index {
  const unpacked = unpackIndex(bytes);
  const backend = unpacked.header.backend;
  if (backend === 'compact') return CompactBm25Index.fromUnpacked(unpacked);
  if (backend === 'lunr') return LunrBm25Index.fromUnpacked(unpacked);
  throw new CorruptArtifactError(`BM25 index names an unknown backend "${String(backend)}"; rebuild the index artifact`);
}
