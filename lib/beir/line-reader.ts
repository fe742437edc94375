// Streams a file as raw lines without ever holding the whole file: BEIR corpora can be larger than memory.
// Lines are split on bytes (0x0A never occurs inside a multi-byte UTF-8 sequence), so each line can be decoded on
// its own with a fatal decoder and an invalid byte sequence is reported with its line number.
import { createReadStream } from 'node:fs';

interface RawLine {
  /** 1-based line number in the file. */
  readonly lineNumber: number;
  /** The line's bytes without the trailing "\n" or "\r\n". */
  readonly bytes: Uint8Array;
}

export interface ReadLinesOptions {
  /** A longer line means a damaged file (e.g. no newlines at all); reading stops instead of filling memory. */
  readonly maxLineBytes?: number;
}

const DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024;

class LineTooLongError extends Error {
  override readonly name = 'LineTooLongError';
}

export async function* readRawLines(path: string, options: ReadLinesOptions = {}): AsyncGenerator<RawLine> {
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  const pending: Buffer[] = [];
  let pendingBytes = 0;
  let lineNumber = 0;
  const finish = (last: Buffer): RawLine => {
    let bytes: Buffer = last;
    if (pending.length > 0) {
      pending.push(last);
      bytes = Buffer.concat(pending);
      pending.length = 0;
      pendingBytes = 0;
    }
    lineNumber++;
    if (bytes.length > maxLineBytes) throw new LineTooLongError(`${path}:${lineNumber}: line longer than ${maxLineBytes} bytes; is the file newline-delimited?`);
    const end = bytes.length > 0 && bytes[bytes.length - 1] === 0x0d ? bytes.length - 1 : bytes.length;
    return { lineNumber, bytes: bytes.subarray(0, end) };
  };
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let start = 0;
    for (let nl = chunk.indexOf(0x0a, start); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      yield finish(chunk.subarray(start, nl));
      start = nl + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      pending.push(rest);
      pendingBytes += rest.length;
      if (pendingBytes > maxLineBytes) {
        stream.destroy();
        throw new LineTooLongError(`${path}:${lineNumber + 1}: line longer than ${maxLineBytes} bytes; is the file newline-delimited?`);
      }
    }
  }
  if (pendingBytes > 0) yield finish(Buffer.alloc(0));
}
