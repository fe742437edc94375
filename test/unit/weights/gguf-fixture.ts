// Writes small GGUF v3 files for loader tests: metadata key/values, tensor infos and aligned tensor data.

export type FixtureValue =
  | { readonly type: 'u32'; readonly value: number }
  | { readonly type: 'f32'; readonly value: number }
  | { readonly type: 'bool'; readonly value: boolean }
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'strings'; readonly value: readonly string[] }
  | { readonly type: 'i32s'; readonly value: readonly number[] };

export interface FixtureTensor {
  readonly name: string;
  /** GGUF order: fastest-varying dimension first. */
  readonly ne: readonly number[];
  readonly type: number;
  readonly bytes: Uint8Array;
}

class ByteWriter {
  private readonly chunks: Uint8Array[] = [];
  length = 0;
  push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.length += bytes.length;
  }
  u32(v: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v, true);
    this.push(b);
  }
  i32(v: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setInt32(0, v, true);
    this.push(b);
  }
  u64(v: number): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(v), true);
    this.push(b);
  }
  f32(v: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.push(b);
  }
  str(s: string): void {
    const b = new TextEncoder().encode(s);
    this.u64(b.length);
    this.push(b);
  }
  padTo(alignment: number): void {
    const pad = (alignment - (this.length % alignment)) % alignment;
    this.push(new Uint8Array(pad));
  }
  concat(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

const VALUE_TYPE = { u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9 } as const;

export function buildGguf(metadata: Record<string, FixtureValue>, tensors: readonly FixtureTensor[], alignment = 32): Uint8Array {
  const w = new ByteWriter();
  w.push(new TextEncoder().encode('GGUF'));
  w.u32(3);
  w.u64(tensors.length);
  w.u64(Object.keys(metadata).length);
  for (const [key, entry] of Object.entries(metadata)) {
    w.str(key);
    switch (entry.type) {
      case 'u32':
        w.u32(VALUE_TYPE.u32);
        w.u32(entry.value);
        break;
      case 'f32':
        w.u32(VALUE_TYPE.f32);
        w.f32(entry.value);
        break;
      case 'bool':
        w.u32(VALUE_TYPE.bool);
        w.push(Uint8Array.of(entry.value ? 1 : 0));
        break;
      case 'string':
        w.u32(VALUE_TYPE.string);
        w.str(entry.value);
        break;
      case 'strings':
        w.u32(VALUE_TYPE.array);
        w.u32(VALUE_TYPE.string);
        w.u64(entry.value.length);
        for (const s of entry.value) w.str(s);
        break;
      case 'i32s':
        w.u32(VALUE_TYPE.array);
        w.u32(VALUE_TYPE.i32);
        w.u64(entry.value.length);
        for (const v of entry.value) w.i32(v);
        break;
    }
  }
  let offset = 0;
  const offsets: number[] = [];
  for (const t of tensors) {
    offsets.push(offset);
    offset += Math.ceil(t.bytes.length / alignment) * alignment;
  }
  tensors.forEach((t, i) => {
    w.str(t.name);
    w.u32(t.ne.length);
    for (const d of t.ne) w.u64(d);
    w.u32(t.type);
    w.u64(offsets[i] ?? 0);
  });
  w.padTo(alignment);
  for (const t of tensors) {
    w.push(t.bytes);
    w.padTo(alignment);
  }
  return w.concat();
}

export function f32Bytes(values: readonly number[] | Float32Array): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}
