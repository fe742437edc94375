export { readCorpus, readQrels, readQueries, readRun, readSourceCorpus, QRELS_HEADER } from './beir-readers.ts';
export { loadQrels, loadQueries, loadRun, type Qrels } from './beir-loaders.ts';
export { writeCorpus, writeQrels, writeQueries, writeRun, type RankedList } from './beir-writers.ts';
export { RowReader, BadRowError, type RowReadOptions, type RowReadStats } from './row-reader.ts';
export type { CorpusRow, QrelRow, QueryRow, RunRow } from './row-schemas.ts';
export { LineWriter, writeLines } from './line-writer.ts';
