// Binary artifacts of the dense-retriever stages: training checkpoints and corpus embeddings. Each is a u32
// little-endian header length, a JSON header (format, tensor lengths, shapes, ids, counters) padded to 4 bytes,
// then the tensors as little-endian float32, back to back. A MiniLM checkpoint (weights, two AdamW moments, best
// weights) is ~350 MB this way; as JSON text it would be several times larger and slow to parse.
import { endianness } from 'node:os';
import { CorruptArtifactError } from '../common/errors.ts';
import type { DevCurvePoint } from '../common/retriever-types.ts';
import type { EmbeddingMatrix } from '../lib/retrieval/dense-search.ts';
import type { RetrieverCheckpoint } from '../lib/sptar/retriever-training.ts';

if (endianness() !== 'LE') throw new Error('retriever artifacts are written as little-endian float32; this machine is big-endian');

const CHECKPOINT_FORMAT = 'sptar-retriever-checkpoint@1';
const EMBEDDINGS_FORMAT = 'sptar-embeddings@1';

interface Header {
  readonly format: string;
  readonly lengths: readonly number[];
}

function pack(header: Header & Record<string, unknown>, tensors: readonly Float32Array[]): Uint8Array {
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

function unpack(bytes: Uint8Array, source: string, format: string): { header: Record<string, unknown>; tensors: Float32Array[] } {
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
  if (header['format'] !== format) throw fail(`format is ${JSON.stringify(header['format'])}, expected ${format}`);
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

/** What a checkpoint must match: the trainable tensors of the encoder being trained, in trainer order. */
export interface TrainableLayout {
  readonly names: readonly string[];
  readonly shapes: ReadonlyMap<string, readonly number[]>;
}

export function serializeCheckpoint(c: RetrieverCheckpoint, layout: TrainableLayout): Uint8Array {
  // The best weights are stored separately only when they are not the current ones.
  const separateBest = c.best.epoch !== c.epoch;
  const tensors = [...c.weights, ...c.optimizer.m, ...c.optimizer.v, ...(separateBest ? c.best.weights : [])];
  const curve: DevCurvePoint[] = c.curve.map((p) => ({ epoch: p.epoch, trainLoss: Number.isNaN(p.trainLoss) ? null : p.trainLoss, devScore: p.devScore }));
  return pack(
    {
      format: CHECKPOINT_FORMAT,
      lengths: tensors.map((t) => t.length),
      epoch: c.epoch,
      optimizerStep: c.optimizer.step,
      best: { epoch: c.best.epoch, devScore: c.best.devScore, separate: separateBest },
      curve,
      names: layout.names,
      shapes: layout.names.map((n) => layout.shapes.get(n)),
    },
    tensors,
  );
}

export function deserializeCheckpoint(bytes: Uint8Array, source: string, layout: TrainableLayout): RetrieverCheckpoint {
  const { header, tensors } = unpack(bytes, source, CHECKPOINT_FORMAT);
  const names = header['names'];
  const shapes = header['shapes'];
  const sameLayout =
    Array.isArray(names) &&
    Array.isArray(shapes) &&
    names.length === layout.names.length &&
    names.every((n, i) => n === layout.names[i] && JSON.stringify(shapes[i]) === JSON.stringify(layout.shapes.get(n)));
  if (!sameLayout) throw new CorruptArtifactError(`${source}: checkpoint tensors do not match the encoder being trained; it belongs to another model. Delete it to restart training`);
  const k = layout.names.length;
  const best = header['best'] as { epoch: number; devScore: number; separate: boolean };
  if (tensors.length !== (best.separate ? 4 : 3) * k) throw new CorruptArtifactError(`${source}: holds ${tensors.length} tensors, expected ${(best.separate ? 4 : 3) * k}`);
  const weights = tensors.slice(0, k);
  const curve = (header['curve'] as DevCurvePoint[]).map((p) => ({ epoch: p.epoch, trainLoss: p.trainLoss ?? Number.NaN, devScore: p.devScore }));
  return {
    epoch: header['epoch'] as number,
    weights,
    optimizer: { step: header['optimizerStep'] as number, m: tensors.slice(k, 2 * k), v: tensors.slice(2 * k, 3 * k) },
    best: { epoch: best.epoch, devScore: best.devScore, weights: best.separate ? tensors.slice(3 * k) : weights.map((w) => Float32Array.from(w)) },
    curve,
  };
}

export function serializeEmbeddings(m: EmbeddingMatrix): Uint8Array {
  return pack({ format: EMBEDDINGS_FORMAT, lengths: [m.data.length], dim: m.dim, ids: m.ids }, [m.data]);
}

export function deserializeEmbeddings(bytes: Uint8Array, source: string): EmbeddingMatrix {
  const { header, tensors } = unpack(bytes, source, EMBEDDINGS_FORMAT);
  const ids = header['ids'] as string[];
  const dim = header['dim'] as number;
  const data = tensors[0]!;
  if (!Array.isArray(ids) || data.length !== ids.length * dim) throw new CorruptArtifactError(`${source}: ${data.length} floats do not make ${ids.length} vectors of ${dim}`);
  return { ids, dim, data };
}
