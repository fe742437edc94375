// JSONL bytes held in memory (an artifact read from the store) parsed row by row against a zod schema. A line that
// is not JSON or not a row stops the read with an error naming `source:line` and what is wrong, raised as the
// caller's error class: DataFormatError for data a user supplied, CorruptArtifactError for rows this project wrote.
import type { z } from 'zod';
import { describeZodIssues } from '../../common/zod-issues.ts';

export interface JsonlRowsOptions {
  /** The error to raise for a bad line. */
  readonly error: new (message: string) => Error;
  /** Appended to a "not JSON" message, e.g. the row shape the file should hold. */
  readonly expected?: string;
}

export function parseJsonlRows<T>(bytes: Uint8Array | string, source: string, schema: z.ZodType<T>, options: JsonlRowsOptions): T[] {
  return parseJsonlLines(bytes, source, schema, options).map((l) => l.row);
}

/** The same rows, each with its 1-based line number in the file (blank lines are skipped, not numbered away). */
export function parseJsonlLines<T>(bytes: Uint8Array | string, source: string, schema: z.ZodType<T>, options: JsonlRowsOptions): { line: number; row: T }[] {
  let text: string;
  try {
    text = typeof bytes === 'string' ? bytes : new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new options.error(`${source}: not valid UTF-8`);
  }
  const rows: { line: number; row: T }[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new options.error(`${source}:${i + 1}: not JSON (${(err as Error).message})${options.expected ? `; ${options.expected}` : ''}`);
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw new options.error(`${source}:${i + 1}: ${describeZodIssues(parsed.error)}`);
    rows.push({ line: i + 1, row: parsed.data });
  }
  return rows;
}

/** Rows as JSONL, one object per line, each line ending in a newline. */
export const toJsonl = (rows: readonly unknown[]): string => rows.map((r) => `${JSON.stringify(r)}\n`).join('');
