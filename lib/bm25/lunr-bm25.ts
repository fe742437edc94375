// BM25 through lunr 2.3.9, configured to match the compact engine: the shared word splitter as its tokenizer,
// Lucene's English stopwords and lunr's Porter stemmer as its pipeline, k1 and b through its builder.
// Measured on SciFact test: nDCG@10 0.6767, the same as the compact engine (lunr's default pipeline: 0.613). lunr
// rounds each document's term weight to 3 decimals, so it produces more exact ties than the compact engine.
// Cost measured at 100k synthetic documents (bench/bm25.ts, busy shared machine): 201 s to build, 5.0 GB RSS,
// 1.7 s per SciFact-shaped query; 1M is projected at over 30 min and ~50 GB. Fine for SciFact-sized corpora,
// unusable for the 100k+ weak-query filter; hence the compact default.
import lunr from 'lunr';
import { CorruptArtifactError, DataFormatError } from '../../common/errors.ts';
import { decodeStrings, encodeStrings, packIndex, type UnpackedIndex } from './index-container.ts';
import { analyze, documentText, luceneStopWordFilter, splitWords } from './text-analysis.ts';
import type { Bm25Index, Bm25Params, DocumentSource, SearchHit } from './bm25-types.ts';
import { trecOrder } from '../metrics/trec-order.ts';

const FIELD = 'body';

export class LunrBm25Index implements Bm25Index {
  readonly backend = 'lunr' as const;

  constructor(
    readonly params: Bm25Params,
    readonly documentCount: number,
    private readonly index: lunr.Index,
  ) {}

  search(query: string, k: number): SearchHit[] {
    if (!Number.isInteger(k) || k < 0) throw new RangeError(`k must be a non-negative integer, got ${k}`);
    const terms = analyze(query);
    if (terms.length === 0) return [];
    // Terms are already analysed; lunr's query-string parser would treat ':', '^', '~', '+', '-', '*' as syntax.
    const results = this.index.query((q) => {
      for (const term of terms) q.term(term, { usePipeline: false });
    });
    return results
      .map((r) => ({ id: r.ref, score: r.score }))
      .sort(trecOrder)
      .slice(0, k);
  }

  serialize(): Uint8Array {
    const json = encodeStrings([JSON.stringify(this.index.toJSON())]);
    return packIndex({ backend: 'lunr', k1: this.params.k1, b: this.params.b, documents: this.documentCount }, { lunr: json });
  }

  static fromUnpacked(unpacked: UnpackedIndex): LunrBm25Index {
    const h = unpacked.header;
    const [json] = decodeStrings(unpacked.section('lunr', 'u8'), 'the lunr index');
    if (json === undefined) throw new CorruptArtifactError('BM25 index: empty lunr section; rebuild the index artifact');
    return new LunrBm25Index({ k1: Number(h.k1), b: Number(h.b) }, Number(h.documents), lunr.Index.load(JSON.parse(json) as object));
  }
}

export async function buildLunrBm25(docs: DocumentSource, params: Bm25Params): Promise<LunrBm25Index> {
  const builder = new lunr.Builder();
  // lunr's tokenizer turns an array of words into tokens (with the metadata the builder passes); the words come
  // from the shared splitter instead of lunr's whitespace-and-hyphen separator.
  const toTokens = lunr.tokenizer as (obj: unknown, metadata?: object) => lunr.Token[];
  builder.tokenizer = Object.assign((obj?: unknown, metadata?: object) => toTokens(splitWords(String(obj ?? '')), metadata), {
    separator: lunr.tokenizer.separator,
  }) as typeof lunr.tokenizer;
  builder.pipeline.add(luceneStopWordFilter, lunr.stemmer);
  builder.ref('id');
  builder.field(FIELD);
  builder.k1(params.k1);
  builder.b(params.b);
  const seen = new Set<string>();
  for await (const doc of docs) {
    if (seen.has(doc._id)) throw new DataFormatError(`document id "${doc._id}" appears twice in the corpus; ids must be unique`);
    seen.add(doc._id);
    builder.add({ id: doc._id, [FIELD]: documentText(doc) });
  }
  return new LunrBm25Index(params, seen.size, builder.build());
}
