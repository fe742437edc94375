// Writers for the BEIR/TREC formats; rows are validated on the way out so a stage never writes what the next
// stage would reject.
import { DataFormatError } from '../../common/errors.ts';
import { describeZodIssues } from '../../common/zod-issues.ts';
import { writeLines } from './line-writer.ts';
import { QRELS_HEADER } from './beir-readers.ts';
import { corpusRowSchema, qrelRowSchema, queryRowSchema, type CorpusRow, type QrelRow, type QueryRow } from './row-schemas.ts';
import type { z } from 'zod';

type Rows<T> = Iterable<T> | AsyncIterable<T>;

function validated<T>(schema: z.ZodType<T>, row: unknown, path: string, index: number): T {
  const parsed = schema.safeParse(row);
  if (!parsed.success) throw new DataFormatError(`${path}: row ${index + 1} to be written is invalid: ${describeZodIssues(parsed.error)}`);
  return parsed.data;
}

async function* mapRows<T>(rows: Rows<T>, fn: (row: T, index: number) => string): AsyncGenerator<string> {
  let i = 0;
  for await (const row of rows) yield fn(row, i++);
}

/** Fields with tabs or newlines would break the TSV and run formats: they are rejected rather than escaped. */
function plainField(value: string, path: string, index: number, field: string, forbidden = /[\t\n\r ]/): string {
  if (forbidden.test(value)) throw new DataFormatError(`${path}: row ${index + 1}: ${field} "${value}" contains whitespace, which the format cannot hold (tabs and newlines in TSV; any whitespace in runs)`);
  return value;
}

export function writeCorpus(path: string, rows: Rows<CorpusRow>): Promise<number> {
  return writeLines(path, mapRows(rows, (row, i) => {
    const r = validated(corpusRowSchema, row, path, i);
    return JSON.stringify({ _id: r._id, title: r.title, text: r.text });
  }));
}

export function writeQueries(path: string, rows: Rows<QueryRow>): Promise<number> {
  return writeLines(path, mapRows(rows, (row, i) => {
    const r = validated(queryRowSchema, row, path, i);
    return JSON.stringify(r.metadata === undefined ? { _id: r._id, text: r.text } : { _id: r._id, text: r.text, metadata: r.metadata });
  }));
}

/** Returns the number of judgement rows (the header is not counted). */
export async function writeQrels(path: string, rows: Rows<QrelRow>): Promise<number> {
  async function* lines(): AsyncGenerator<string> {
    yield QRELS_HEADER.join('\t');
    yield* mapRows(rows, (row, i) => {
      const r = validated(qrelRowSchema, row, path, i);
      const tsvUnsafe = /[\t\n\r]/;
      return `${plainField(r.queryId, path, i, 'query-id', tsvUnsafe)}\t${plainField(r.docId, path, i, 'corpus-id', tsvUnsafe)}\t${r.score}`;
    });
  }
  return (await writeLines(path, lines())) - 1;
}

export interface RankedList {
  readonly queryId: string;
  /** Best first. */
  readonly hits: readonly { readonly id: string; readonly score: number }[];
}

/** TREC run lines `qid Q0 docid rank score tag`, ranks from 1 in the given order. */
export function writeRun(path: string, lists: Rows<RankedList>, tag: string): Promise<number> {
  if (!/^\S+$/.test(tag)) throw new DataFormatError(`run tag "${tag}" must be one word without whitespace`);
  async function* lines(): AsyncGenerator<string> {
    let i = 0;
    for await (const list of lists) {
      const qid = plainField(list.queryId, path, i, 'query id');
      let rank = 1;
      for (const hit of list.hits) {
        if (!Number.isFinite(hit.score)) throw new DataFormatError(`${path}: query "${qid}" document "${hit.id}" has a non-finite score ${hit.score}`);
        yield `${qid} Q0 ${plainField(hit.id, path, i, 'document id')} ${rank++} ${hit.score} ${tag}`;
      }
      i++;
    }
  }
  return writeLines(path, lines());
}
