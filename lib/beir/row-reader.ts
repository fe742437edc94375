// Reads a line-oriented file row by row: decodes each line strictly as UTF-8, parses it, and on a bad row either
// fails with file, line and reason (DataFormatError) or, when asked, skips it, counts it and records it in a
// rejects file so nothing disappears silently.
import { DataFormatError } from '../../common/errors.ts';
import { readRawLines, type ReadLinesOptions } from './line-reader.ts';
import { RejectsWriter } from './rejects-writer.ts';

type BadRowPolicy = 'fail' | 'skip';

export interface RowReadOptions extends ReadLinesOptions {
  /** 'fail' (default) throws DataFormatError at the first bad row; 'skip' counts it and goes on. */
  readonly onBadRow?: BadRowPolicy;
  /** With onBadRow 'skip': JSONL file receiving {file, line, reason, raw | rawBase64} per skipped row. */
  readonly rejectsPath?: string;
}

export interface RowReadStats {
  rows: number;
  skipped: number;
  /** The first few reasons, for a log line or report; the rejects file holds all of them. */
  readonly firstReasons: string[];
}

/** Thrown by a line parser: the reason becomes part of the DataFormatError or the rejects record. */
export class BadRowError extends Error {
  override readonly name = 'BadRowError';
}

/** Parses one decoded line; returns undefined for lines that carry no row (blank lines, headers). */
export type LineParser<T> = (text: string, lineNumber: number) => T | undefined;

const MAX_REASONS_KEPT = 5;

/** An async iterable of parsed rows whose `stats` are complete once iteration has finished. */
export class RowReader<T> implements AsyncIterable<T> {
  readonly stats: RowReadStats = { rows: 0, skipped: 0, firstReasons: [] };

  constructor(
    readonly path: string,
    private readonly parse: LineParser<T>,
    private readonly options: RowReadOptions = {},
  ) {}

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    const policy = this.options.onBadRow ?? 'fail';
    const decoder = new TextDecoder('utf-8', { fatal: true });
    const rejects = policy === 'skip' && this.options.rejectsPath ? new RejectsWriter(this.options.rejectsPath) : undefined;
    try {
      for await (const line of readRawLines(this.path, this.options)) {
        let text: string | undefined;
        let row: T | undefined;
        let reason: string | undefined;
        try {
          text = decoder.decode(line.bytes);
          row = this.parse(text, line.lineNumber);
        } catch (err) {
          if (err instanceof BadRowError) reason = err.message;
          else if (err instanceof TypeError && text === undefined) reason = 'invalid UTF-8 byte sequence';
          else throw err;
        }
        if (reason !== undefined) {
          if (policy === 'fail') {
            throw new DataFormatError(`${this.path}:${line.lineNumber}: ${reason}. Fix the row, or read with onBadRow: 'skip' to skip and record bad rows.`);
          }
          this.stats.skipped++;
          if (this.stats.firstReasons.length < MAX_REASONS_KEPT) this.stats.firstReasons.push(`line ${line.lineNumber}: ${reason}`);
          await rejects?.write({ file: this.path, line: line.lineNumber, reason, bytes: line.bytes, text });
          continue;
        }
        if (row === undefined) continue;
        this.stats.rows++;
        yield row;
      }
    } finally {
      await rejects?.close();
    }
  }
}
