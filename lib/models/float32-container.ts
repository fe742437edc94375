// A binary container for float32 tensors with a JSON header: a u32 little-endian header length, the JSON header
// (format, tensor lengths and whatever else the format records) padded to 4 bytes, then the tensors as little-endian
// float32, back to back. Retriever checkpoints and corpus embeddings use it: a MiniLM checkpoint (weights, two
// AdamW moments, best weights) is ~350 MB this way; as JSON text it would be several times larger and slow to parse.
import { endianness } from 'node:os';
import { CorruptArtifactError } from '../../common/errors.ts';

if (endianness() !== 'LE') throw new Error('float32 containers are written as little-endian float32; this machine is big-endian');

export interface ContainerHeader {
  readonly format: string;
  readonly lengths: readonly number[];
}

/** The container of `tensors` with `header` (its `lengths` must be the tensors' lengths). */
export function packFloat32(header: ContainerHeader & Record<string, unknown>, tensors: readonly Float32Array[]): Uint8Array {
  let json = JSON.stringify(header);
  while ((4 + Buffer.byteLength(json)) % 4 !== 0) json += ' ';
  const head = Buffer.from(json, 'utf8');
  const total = 4 + head.length + tensors.reduce((s, t) => s + t.byteLength, 0);
  const out = new Uint8Array(total);
  new DataView(out.buffer).setUint32(0, head.length, true);
  out.set(head, 4);
  let at = 4 + head.length;
  for (const t of tensors) {
    out.set(new Uint8Array(t.buffer, t.byteOffset, t.byteLength), at);
    at += t.byteLength;
  }
  return out;
}

/**
 * The header and tensors of a container of `format` (or of one of several). Anything else is a corrupt artifact: the
 * error names `source` and says to delete it so the stage that writes it runs again.
 */
export function unpackFloat32(bytes: Uint8Array, source: string, format: string | readonly string[]): { header: Record<string, unknown>; tensors: Float32Array[] } {
  const fail = (why: string) => new CorruptArtifactError(`${source}: ${why}; delete it so the stage that writes it runs again`);
  if (bytes.byteLength < 4) throw fail('too short for a header');
  const headLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true);
  if (4 + headLength > bytes.byteLength) throw fail(`header length ${headLength} runs past the end of the ${bytes.byteLength}-byte file`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 4, headLength).toString('utf8')) as Record<string, unknown>;
  } catch (err) {
    throw fail(`header is not JSON (${(err as Error).message})`);
  }
  const formats: readonly string[] = typeof format === 'string' ? [format] : format;
  if (!formats.includes(header['format'] as string)) throw fail(`format is ${JSON.stringify(header['format'])}, expected ${formats.join(' or ')}`);
  const lengths = header['lengths'];
  if (!Array.isArray(lengths) || !lengths.every((n) => Number.isSafeInteger(n) && n >= 0)) throw fail('header has no valid tensor lengths');
  const need = 4 + headLength + 4 * (lengths as number[]).reduce((s, n) => s + n, 0);
  if (need !== bytes.byteLength) throw fail(`header describes ${need} bytes, the file has ${bytes.byteLength}`);
  const tensors: Float32Array[] = [];
  let at = bytes.byteOffset + 4 + headLength;
  for (const n of lengths as number[]) {
    // A copy: the source offset need not be 4-byte aligned, and callers own (and mutate) what they get.
    tensors.push(new Float32Array(bytes.buffer.slice(at, at + 4 * n)));
    at += 4 * n;
  }
  return { header, tensors };
}
