export { indexDocuments, deserializeBm25Index } from './create-bm25.ts';
export { ANSERINI_BM25, type Bm25Backend, type Bm25Document, type Bm25Index, type Bm25Params, type DocumentSource, type SearchHit } from './bm25-types.ts';
export { analyze, documentText, splitWords } from './text-analysis.ts';
export { CompactBm25Index } from './compact-bm25.ts';
export { LunrBm25Index } from './lunr-bm25.ts';
