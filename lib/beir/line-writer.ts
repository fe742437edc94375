// Writes lines to a file with backpressure, so writing a large corpus never buffers it all in memory.
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';

export class LineWriter {
  private readonly stream: WriteStream;
  private failure: Error | undefined;
  lines = 0;

  constructor(readonly path: string) {
    this.stream = createWriteStream(path, { encoding: 'utf8' });
    this.stream.on('error', (err) => {
      this.failure = err;
    });
  }

  async writeLine(line: string): Promise<void> {
    if (this.failure) throw this.failure;
    this.lines++;
    // once() rejects if the stream emits 'error' while we wait.
    if (!this.stream.write(`${line}\n`)) await once(this.stream, 'drain');
    if (this.failure) throw this.failure;
  }

  async close(): Promise<void> {
    if (this.failure) throw this.failure;
    this.stream.end();
    await once(this.stream, 'finish');
  }
}

/** Writes every line of `lines` and closes the file; returns the number of lines written. */
export async function writeLines(path: string, lines: Iterable<string> | AsyncIterable<string>): Promise<number> {
  const writer = new LineWriter(path);
  try {
    for await (const line of lines) await writer.writeLine(line);
  } finally {
    await writer.close();
  }
  return writer.lines;
}
