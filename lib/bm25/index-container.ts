// Byte layout of a stored BM25 index: a magic, a JSON header, then 8-byte-aligned binary sections, so typed
// arrays load as views without copying. Multi-byte numbers are little-endian (checked at run time: typed arrays
// use the platform's byte order, and every platform Node supports today is little-endian).
import { CorruptArtifactError } from '../../common/errors.ts';

const MAGIC = 'SPTARBM25\u0000';
const VERSION = 1;

type SectionArray = Uint8Array | Uint16Array | Uint32Array | Float32Array;
const ARRAY_TYPES = { u8: Uint8Array, u16: Uint16Array, u32: Uint32Array, f32: Float32Array } as const;
type SectionType = keyof typeof ARRAY_TYPES;

interface SectionEntry {
  readonly name: string;
  readonly type: SectionType;
  readonly offset: number;
  readonly length: number;
}

function assertLittleEndian(): void {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('BM25 index files are little-endian; this platform is big-endian and cannot load them');
}

function typeOf(array: SectionArray): SectionType {
  if (array instanceof Uint8Array) return 'u8';
  if (array instanceof Uint16Array) return 'u16';
  if (array instanceof Uint32Array) return 'u32';
  return 'f32';
}

const align8 = (n: number): number => (n + 7) & ~7;

export function packIndex(header: Record<string, unknown>, sections: Record<string, SectionArray>): Uint8Array {
  assertLittleEndian();
  const entries: SectionEntry[] = [];
  let offset = 0;
  for (const [name, array] of Object.entries(sections)) {
    entries.push({ name, type: typeOf(array), offset, length: array.length });
    offset = align8(offset + array.byteLength);
  }
  const headerBytes = new TextEncoder().encode(JSON.stringify({ version: VERSION, header, sections: entries }));
  const magic = new TextEncoder().encode(MAGIC);
  const dataStart = align8(magic.length + 4 + headerBytes.length);
  const out = new Uint8Array(dataStart + offset);
  out.set(magic, 0);
  new DataView(out.buffer).setUint32(magic.length, headerBytes.length, true);
  out.set(headerBytes, magic.length + 4);
  for (const [i, array] of Object.values(sections).entries()) {
    out.set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength), dataStart + entries[i]!.offset);
  }
  return out;
}

export interface UnpackedIndex {
  readonly header: Record<string, unknown>;
  section<T extends SectionType>(name: string, type: T): InstanceType<(typeof ARRAY_TYPES)[T]>;
}

export function unpackIndex(bytes: Uint8Array): UnpackedIndex {
  assertLittleEndian();
  const corrupt = (why: string) => new CorruptArtifactError(`not a readable BM25 index (${why}); rebuild the index artifact`);
  const magic = new TextEncoder().encode(MAGIC);
  if (bytes.length < magic.length + 4 || !magic.every((b, i) => bytes[i] === b)) throw corrupt('bad magic bytes');
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(magic.length, true);
  if (magic.length + 4 + headerLength > bytes.length) throw corrupt('truncated header');
  let parsed: { version: number; header: Record<string, unknown>; sections: SectionEntry[] };
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(magic.length + 4, magic.length + 4 + headerLength))) as typeof parsed;
  } catch (err) {
    throw corrupt(`header is not JSON: ${(err as Error).message}`);
  }
  if (parsed.version !== VERSION) throw corrupt(`format version ${parsed.version}, this code reads ${VERSION}`);
  const dataStart = align8(magic.length + 4 + headerLength);
  return {
    header: parsed.header,
    section<T extends SectionType>(name: string, type: T) {
      const entry = parsed.sections.find((s) => s.name === name);
      if (!entry) throw corrupt(`section "${name}" missing`);
      if (entry.type !== type) throw corrupt(`section "${name}" has type ${entry.type}, expected ${type}`);
      const Ctor = ARRAY_TYPES[type];
      const start = dataStart + entry.offset;
      const byteLength = entry.length * Ctor.BYTES_PER_ELEMENT;
      if (start + byteLength > bytes.length) throw corrupt(`section "${name}" runs past the end of the data`);
      const absolute = bytes.byteOffset + start;
      // A view when aligned (the usual case); a copy when the caller's buffer is not.
      const view =
        absolute % Ctor.BYTES_PER_ELEMENT === 0
          ? new Ctor(bytes.buffer as ArrayBuffer, absolute, entry.length)
          : new Ctor(bytes.slice(start, start + byteLength).buffer, 0, entry.length);
      return view as InstanceType<(typeof ARRAY_TYPES)[T]>;
    },
  };
}

/** String lists travel as a JSON array in a byte section. */
export const encodeStrings = (values: readonly string[]): Uint8Array => new TextEncoder().encode(JSON.stringify(values));

export function decodeStrings(bytes: Uint8Array, what: string): string[] {
  const value: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new CorruptArtifactError(`BM25 index: ${what} is not a list of strings; rebuild the index artifact`);
  return value as string[];
}
