// safetensors reading (F32, F16, BF16) and writing (F32). Layout: u64 little-endian header length N, N bytes of
// JSON `{ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__?: {...} }`, then the data section;
// offsets are relative to the start of the data section.
import { readFile, writeFile } from 'node:fs/promises';
import type { WeightMap, WeightTensor } from '../models/model-config.ts';
import { bf16ToFloat, fp16ToFloat } from './half-float.ts';

class SafetensorsFormatError extends Error {
  override readonly name = 'SafetensorsFormatError';
}

interface SafetensorsContents {
  readonly weights: Map<string, WeightTensor>;
  readonly metadata: Readonly<Record<string, string>>;
  /** Integer buffers (e.g. BERT's `embeddings.position_ids`) are not weights and are left out. */
  readonly skipped: readonly string[];
}

const FLOAT_BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2 };
const INTEGER_DTYPES = new Set(['I64', 'I32', 'I16', 'I8', 'U8', 'U16', 'U32', 'U64', 'BOOL']);

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

function parseEntry(name: string, raw: unknown, source: string): HeaderEntry {
  const entry = raw as Partial<HeaderEntry> | null;
  const offsets = entry?.data_offsets;
  if (
    typeof entry?.dtype !== 'string' ||
    !Array.isArray(entry.shape) ||
    !entry.shape.every((d) => Number.isSafeInteger(d) && d >= 0) ||
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)
  ) {
    throw new SafetensorsFormatError(`${source}: header entry '${name}' lacks a valid dtype, shape or data_offsets; the file is corrupt`);
  }
  return entry as HeaderEntry;
}

/** Parses a safetensors file already in memory; `source` names it in errors. */
export function parseSafetensors(bytes: Uint8Array, source: string): SafetensorsContents {
  if (bytes.byteLength < 8) throw new SafetensorsFormatError(`${source}: ${bytes.byteLength} bytes is too short for a safetensors header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (8 + headerLength > bytes.byteLength) {
    throw new SafetensorsFormatError(
      `${source}: header length ${headerLength} runs past the end of the ${bytes.byteLength}-byte file; the file is truncated or not safetensors`,
    );
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as Record<string, unknown>;
  } catch (err) {
    throw new SafetensorsFormatError(`${source}: header is not valid JSON (${(err as Error).message}); the file is corrupt`, { cause: err });
  }
  const dataStart = 8 + headerLength;
  const dataLength = bytes.byteLength - dataStart;
  const weights = new Map<string, WeightTensor>();
  const skipped: string[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const entry = parseEntry(name, raw, source);
    const [begin, end] = entry.data_offsets;
    if (end < begin || end > dataLength) {
      throw new SafetensorsFormatError(
        `${source}: tensor '${name}' data_offsets [${begin}, ${end}] fall outside the ${dataLength}-byte data section; the file is truncated or corrupt`,
      );
    }
    if (INTEGER_DTYPES.has(entry.dtype)) {
      skipped.push(name);
      continue;
    }
    const width = FLOAT_BYTES[entry.dtype];
    if (width === undefined) {
      throw new SafetensorsFormatError(`${source}: tensor '${name}' has dtype ${entry.dtype}; supported: F32, F16, BF16. Convert the checkpoint first`);
    }
    const count = entry.shape.reduce((a, b) => a * b, 1);
    if (count * width !== end - begin) {
      throw new SafetensorsFormatError(`${source}: tensor '${name}' of shape [${entry.shape.join(', ')}] ${entry.dtype} needs ${count * width} bytes, header gives ${end - begin}`);
    }
    const tensorView = new DataView(bytes.buffer, bytes.byteOffset + dataStart + begin, end - begin);
    const data = new Float32Array(count);
    if (entry.dtype === 'F32') for (let i = 0; i < count; i++) data[i] = tensorView.getFloat32(i * 4, true);
    else if (entry.dtype === 'F16') for (let i = 0; i < count; i++) data[i] = fp16ToFloat(tensorView.getUint16(i * 2, true));
    else for (let i = 0; i < count; i++) data[i] = bf16ToFloat(tensorView.getUint16(i * 2, true));
    weights.set(name, { dims: entry.shape, data });
  }
  const rawMeta = header['__metadata__'];
  const metadata: Record<string, string> = {};
  if (rawMeta && typeof rawMeta === 'object') {
    for (const [k, v] of Object.entries(rawMeta)) if (typeof v === 'string') metadata[k] = v;
  }
  return { weights, metadata, skipped };
}

export async function readSafetensors(path: string): Promise<SafetensorsContents> {
  return parseSafetensors(await readFile(path), path);
}

/** Serialises float32 weights (names sorted, header padded to 8 bytes as the reference writer does). */
export function serializeSafetensors(weights: WeightMap, metadata: Readonly<Record<string, string>> = {}): Uint8Array {
  const names = [...weights.keys()].sort();
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header['__metadata__'] = metadata;
  let offset = 0;
  for (const name of names) {
    const t = weights.get(name);
    if (!t) continue;
    const expected = t.dims.reduce((a, b) => a * b, 1);
    if (expected !== t.data.length) throw new Error(`cannot write tensor '${name}': dims [${t.dims.join(', ')}] need ${expected} values, it has ${t.data.length}`);
    header[name] = { dtype: 'F32', shape: t.dims, data_offsets: [offset, offset + t.data.length * 4] };
    offset += t.data.length * 4;
  }
  let json = JSON.stringify(header);
  const encoder = new TextEncoder();
  while ((encoder.encode(json).length + 8) % 8 !== 0) json += ' ';
  const headerBytes = encoder.encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const name of names) {
    const t = weights.get(name);
    if (!t) continue;
    for (let i = 0; i < t.data.length; i++) view.setFloat32(at + i * 4, t.data[i] ?? 0, true);
    at += t.data.length * 4;
  }
  return out;
}

export async function writeSafetensors(path: string, weights: WeightMap, metadata: Readonly<Record<string, string>> = {}): Promise<void> {
  await writeFile(path, serializeSafetensors(weights, metadata));
}
