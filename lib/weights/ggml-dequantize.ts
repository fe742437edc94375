// Dequantisation of GGML tensor encodings to float32. Block layouts follow ggml's reference definitions:
// every quantised block holds 32 consecutive values of the flattened tensor.
import { bf16ToFloat, fp16ToFloat } from './half-float.ts';

/** GGML tensor type ids (the `dtype` numbers stored in GGUF tensor infos). */
export const GgmlType = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q8_0: 8,
  BF16: 30,
} as const;

const TYPE_NAMES: Record<number, string> = {
  0: 'F32', 1: 'F16', 2: 'Q4_0', 3: 'Q4_1', 6: 'Q5_0', 7: 'Q5_1', 8: 'Q8_0', 9: 'Q8_1', 10: 'Q2_K', 11: 'Q3_K',
  12: 'Q4_K', 13: 'Q5_K', 14: 'Q6_K', 15: 'Q8_K', 24: 'I8', 25: 'I16', 26: 'I32', 27: 'I64', 28: 'F64', 30: 'BF16',
};

/** Human-readable name of a GGML type id, e.g. 3 -> "Q4_1". */
function ggmlTypeName(type: number): string {
  return TYPE_NAMES[type] ?? `type ${type}`;
}

const QK = 32; // values per quantised block

interface Layout {
  readonly blockValues: number;
  readonly blockBytes: number;
}

const LAYOUTS: Record<number, Layout> = {
  [GgmlType.F32]: { blockValues: 1, blockBytes: 4 },
  [GgmlType.F16]: { blockValues: 1, blockBytes: 2 },
  [GgmlType.BF16]: { blockValues: 1, blockBytes: 2 },
  [GgmlType.Q4_0]: { blockValues: QK, blockBytes: 2 + QK / 2 },
  [GgmlType.Q4_1]: { blockValues: QK, blockBytes: 4 + QK / 2 },
  [GgmlType.Q8_0]: { blockValues: QK, blockBytes: 2 + QK },
};

class UnsupportedTensorTypeError extends Error {
  override readonly name = 'UnsupportedTensorTypeError';
}

function layoutOf(type: number, tensorName: string): Layout {
  const layout = LAYOUTS[type];
  if (!layout) {
    const supported = Object.keys(GgmlType).join(', ');
    throw new UnsupportedTensorTypeError(
      `tensor '${tensorName}' has GGML type ${ggmlTypeName(type)}, which this loader cannot dequantise ` +
        `(supported: ${supported}); re-export the model with one of those types`,
    );
  }
  return layout;
}

/** Number of bytes a tensor of `count` values occupies in the given encoding. */
export function ggmlByteSize(type: number, count: number, tensorName: string): number {
  const { blockValues, blockBytes } = layoutOf(type, tensorName);
  if (count % blockValues !== 0) {
    throw new Error(
      `tensor '${tensorName}' has ${count} values, not a multiple of the ${ggmlTypeName(type)} block size ${blockValues}`,
    );
  }
  return (count / blockValues) * blockBytes;
}

/** Decodes `count` values of a GGML tensor from its raw little-endian bytes. */
export function dequantizeGgml(type: number, bytes: Uint8Array, count: number, tensorName: string): Float32Array {
  const needed = ggmlByteSize(type, count, tensorName);
  if (bytes.byteLength < needed) {
    throw new Error(`tensor '${tensorName}' needs ${needed} bytes of ${ggmlTypeName(type)} data but only ${bytes.byteLength} are present`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, needed);
  const out = new Float32Array(count);
  switch (type) {
    case GgmlType.F32:
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    case GgmlType.F16:
      for (let i = 0; i < count; i++) out[i] = fp16ToFloat(view.getUint16(i * 2, true));
      return out;
    case GgmlType.BF16:
      for (let i = 0; i < count; i++) out[i] = bf16ToFloat(view.getUint16(i * 2, true));
      return out;
    case GgmlType.Q4_0:
      decodeQ4(view, out, false);
      return out;
    case GgmlType.Q4_1:
      decodeQ4(view, out, true);
      return out;
    case GgmlType.Q8_0:
      decodeQ8_0(view, out);
      return out;
    default:
      throw new UnsupportedTensorTypeError(`tensor '${tensorName}': no decoder for ${ggmlTypeName(type)}`);
  }
}

/**
 * Q4_0: fp16 d, 16 bytes of nibbles, value = d * (q - 8).
 * Q4_1: fp16 d, fp16 m, 16 bytes of nibbles, value = d * q + m.
 * Byte j holds element j in its low nibble and element j + 16 in its high nibble.
 */
function decodeQ4(view: DataView, out: Float32Array, withMin: boolean): void {
  const blockBytes = withMin ? 20 : 18;
  const blocks = out.length / QK;
  for (let b = 0; b < blocks; b++) {
    const base = b * blockBytes;
    const d = fp16ToFloat(view.getUint16(base, true));
    const m = withMin ? fp16ToFloat(view.getUint16(base + 2, true)) : -8 * d;
    const qs = base + (withMin ? 4 : 2);
    const o = b * QK;
    for (let j = 0; j < QK / 2; j++) {
      const byte = view.getUint8(qs + j);
      out[o + j] = d * (byte & 0x0f) + m;
      out[o + j + QK / 2] = d * (byte >> 4) + m;
    }
  }
}

/** Q8_0: fp16 d followed by 32 signed bytes, value = d * q. */
function decodeQ8_0(view: DataView, out: Float32Array): void {
  const blocks = out.length / QK;
  for (let b = 0; b < blocks; b++) {
    const base = b * (2 + QK);
    const d = fp16ToFloat(view.getUint16(base, true));
    const o = b * QK;
    for (let j = 0; j < QK; j++) out[o + j] = d * view.getInt8(base + 2 + j);
  }
}
