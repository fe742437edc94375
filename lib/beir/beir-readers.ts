// Readers for the four BEIR/TREC formats that connect the pipeline's stages.
import { z } from 'zod';
import { describeZodIssues } from '../../common/zod-issues.ts';
import {
  corpusRowSchema,
  qrelRowSchema,
  queryRowSchema,
  runRowSchema,
  type CorpusRow,
  type QrelRow,
  type QueryRow,
  type RunRow,
} from './row-schemas.ts';
import { BadRowError, RowReader, type LineParser, type RowReadOptions } from './row-reader.ts';

export const QRELS_HEADER = ['query-id', 'corpus-id', 'score'] as const;

function jsonLineParser<T>(schema: z.ZodType<T>): LineParser<T> {
  return (text) => {
    if (text.trim() === '') return undefined;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new BadRowError(`not JSON (${(err as Error).message})`);
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw new BadRowError(describeZodIssues(parsed.error));
    return parsed.data;
  };
}

function checked<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new BadRowError(describeZodIssues(parsed.error));
  return parsed.data;
}

const INTEGER = /^[+-]?\d+$/;

/** BEIR qrels: a `query-id corpus-id score` header line, then tab-separated rows with an integer grade. */
const parseQrelLine: LineParser<QrelRow> = (text, lineNumber) => {
  if (text.trim() === '') return undefined;
  const fields = text.split('\t');
  if (lineNumber === 1) {
    if (fields.map((f) => f.trim()).join('\t') === QRELS_HEADER.join('\t')) return undefined;
    throw new BadRowError(`expected the header "${QRELS_HEADER.join('\\t')}"`);
  }
  if (fields.length !== 3) throw new BadRowError(`expected 3 tab-separated fields (query-id, corpus-id, score), got ${fields.length}`);
  const [queryId, docId, score] = fields.map((f) => f.trim()) as [string, string, string];
  if (!INTEGER.test(score)) throw new BadRowError(`score must be an integer, got "${score}"`);
  return checked(qrelRowSchema, { queryId, docId, score: Number(score) });
};

/** TREC run: `qid Q0 docid rank score tag`, separated by any whitespace. */
const parseRunLine: LineParser<RunRow> = (text) => {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  const fields = trimmed.split(/\s+/);
  if (fields.length !== 6) throw new BadRowError(`expected 6 fields "qid Q0 docid rank score tag", got ${fields.length}`);
  const [queryId, , docId, rank, score, tag] = fields as [string, string, string, string, string, string];
  if (!INTEGER.test(rank)) throw new BadRowError(`rank must be an integer, got "${rank}"`);
  const numeric = Number(score);
  if (score === '' || Number.isNaN(numeric)) throw new BadRowError(`score must be a number, got "${score}"`);
  return checked(runRowSchema, { queryId, docId, rank: Number(rank), score: numeric, tag });
};

export const readCorpus = (path: string, options?: RowReadOptions): RowReader<CorpusRow> => new RowReader(path, jsonLineParser(corpusRowSchema), options);
/**
 * A dataset's corpus as a user supplied it: rows as `readCorpus` reads them, and a document id seen on an earlier
 * line is a bad row (failed or, with onBadRow 'skip', recorded and skipped; the first row stays), since a duplicate
 * id would be indexed, generated for and evaluated twice. Iterate it once: the ids seen are the reader's state.
 */
export function readSourceCorpus(path: string, options?: RowReadOptions): RowReader<CorpusRow> {
  const parse = jsonLineParser(corpusRowSchema);
  const firstLine = new Map<string, number>();
  return new RowReader(
    path,
    (text, lineNumber) => {
      const row = parse(text, lineNumber);
      if (row === undefined) return undefined;
      const first = firstLine.get(row._id);
      if (first !== undefined) throw new BadRowError(`document id "${row._id}" already appeared on line ${first}; document ids must be unique (remove or rename the duplicate)`);
      firstLine.set(row._id, lineNumber);
      return row;
    },
    options,
  );
}
export const readQueries = (path: string, options?: RowReadOptions): RowReader<QueryRow> => new RowReader(path, jsonLineParser(queryRowSchema), options);
export const readQrels = (path: string, options?: RowReadOptions): RowReader<QrelRow> => new RowReader(path, parseQrelLine, options);
export const readRun = (path: string, options?: RowReadOptions): RowReader<RunRow> => new RowReader(path, parseRunLine, options);
