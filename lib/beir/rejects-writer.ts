// Skipped rows go to a JSONL rejects file, opened only when the first bad row appears.
import { LineWriter } from './line-writer.ts';

interface RejectedRow {
  readonly file: string;
  readonly line: number;
  readonly reason: string;
  readonly bytes: Uint8Array;
  /** The decoded line; absent when the bytes are not valid UTF-8 (then they are stored as base64). */
  readonly text: string | undefined;
}

export class RejectsWriter {
  private writer: LineWriter | undefined;

  constructor(readonly path: string) {}

  async write(row: RejectedRow): Promise<void> {
    this.writer ??= new LineWriter(this.path);
    const record =
      row.text === undefined
        ? { file: row.file, line: row.line, reason: row.reason, rawBase64: Buffer.from(row.bytes).toString('base64') }
        : { file: row.file, line: row.line, reason: row.reason, raw: row.text };
    await this.writer.writeLine(JSON.stringify(record));
  }

  async close(): Promise<void> {
    await this.writer?.close();
  }
}
