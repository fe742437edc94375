// Loads a LLaMA-family GGUF file (llama.cpp format) into HuggingFace-named float32 weights plus its config
// and tokenizer metadata. The header is parsed with @huggingface/gguf; tensor bytes are read and decoded here.
import { open } from 'node:fs/promises';
import { gguf } from '@huggingface/gguf';
import type { LlamaConfig, WeightMap, WeightTensor } from '../models/model-config.ts';
import { tokenizerMetadataFromGguf, type GgufTokenizerMetadata } from '../tokenizers/gguf-tokenizer-metadata.ts';
import { dequantizeGgml, ggmlByteSize } from './ggml-dequantize.ts';
import { hfNameForGgufTensor, rotaryRole } from './gguf-names.ts';
import { unpermuteFromInterleaved } from './rotary-permutation.ts';

const DEFAULT_ALIGNMENT = 32;
const SUPPORTED_ARCHITECTURES = ['llama'] as const;

interface GgufTensorEntry {
  readonly name: string;
  /** Row-major dims (GGUF lists them fastest-varying first; this is the reverse). */
  readonly dims: readonly number[];
  readonly type: number;
  /** Absolute byte offset of the tensor's data in the file. */
  readonly fileOffset: number;
  readonly byteLength: number;
}

interface GgufHeader {
  readonly path: string;
  readonly metadata: Record<string, unknown>;
  readonly config: LlamaConfig;
  readonly tokenizerMetadata: GgufTokenizerMetadata;
  readonly tensors: readonly GgufTensorEntry[];
}

export interface GgufModel {
  readonly config: LlamaConfig;
  readonly weights: WeightMap;
  readonly tokenizerMetadata: GgufTokenizerMetadata;
}

function toSafeNumber(value: bigint | number, what: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new Error(`${what} = ${value} is beyond the safe integer range`);
  return n;
}

function requireNumber(metadata: Record<string, unknown>, key: string, source: string): number {
  const value = metadata[key];
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  throw new Error(`${source}: GGUF metadata key '${key}' is missing or not a number; the file is not a complete LLaMA export`);
}

function optionalNumber(metadata: Record<string, unknown>, key: string): number | undefined {
  const value = metadata[key];
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  return undefined;
}

/** Builds the LLaMA config from GGUF metadata keys `<arch>.*`; nothing is assumed about the model size. */
function llamaConfigFromGguf(
  metadata: Record<string, unknown>,
  tensorNames: ReadonlySet<string>,
  tokenCount: number,
  source: string,
): LlamaConfig {
  const arch = metadata['general.architecture'];
  if (typeof arch !== 'string' || !(SUPPORTED_ARCHITECTURES as readonly string[]).includes(arch)) {
    throw new Error(
      `${source}: GGUF architecture '${String(arch)}' is not supported (supported: ${SUPPORTED_ARCHITECTURES.join(', ')}); ` +
        'use a LLaMA-family model such as SmolLM2',
    );
  }
  const key = (suffix: string): string => `${arch}.${suffix}`;
  const hiddenSize = requireNumber(metadata, key('embedding_length'), source);
  const numHeads = requireNumber(metadata, key('attention.head_count'), source);
  const numKvHeads = optionalNumber(metadata, key('attention.head_count_kv')) ?? numHeads;
  const headDim = optionalNumber(metadata, key('attention.key_length')) ?? hiddenSize / numHeads;
  if (!Number.isInteger(headDim)) throw new Error(`${source}: embedding_length ${hiddenSize} is not divisible by head_count ${numHeads}`);
  if (numHeads % numKvHeads !== 0) throw new Error(`${source}: head_count ${numHeads} is not a multiple of head_count_kv ${numKvHeads}`);
  const rotaryDims = optionalNumber(metadata, key('rope.dimension_count')) ?? headDim;
  if (rotaryDims !== headDim) {
    throw new Error(`${source}: partial rotary embeddings (rope.dimension_count ${rotaryDims} < head size ${headDim}) are not supported`);
  }
  const vocabSize = optionalNumber(metadata, key('vocab_size')) ?? tokenCount;
  if (!(vocabSize > 0)) throw new Error(`${source}: neither '${key('vocab_size')}' nor a token list gives the vocabulary size`);
  return {
    architecture: 'llama',
    vocabSize,
    hiddenSize,
    intermediateSize: requireNumber(metadata, key('feed_forward_length'), source),
    numLayers: requireNumber(metadata, key('block_count'), source),
    numHeads,
    numKvHeads,
    headDim,
    rmsNormEps: requireNumber(metadata, key('attention.layer_norm_rms_epsilon'), source),
    ropeTheta: optionalNumber(metadata, key('rope.freq_base')) ?? 10000,
    maxPositions: requireNumber(metadata, key('context_length'), source),
    tieWordEmbeddings: !tensorNames.has('output.weight'),
  };
}

/** Parses the header: metadata, config, tokenizer keys and where each tensor's bytes are. Reads no tensor data. */
export async function readGgufHeader(path: string): Promise<GgufHeader> {
  let parsed;
  try {
    parsed = await gguf(path, { allowLocalFile: true });
  } catch (err) {
    throw new Error(`${path}: not a readable GGUF file (${(err as Error).message})`, { cause: err });
  }
  if (!parsed.littleEndian) throw new Error(`${path}: big-endian GGUF files are not supported`);
  const metadata = parsed.metadata as unknown as Record<string, unknown>;
  const alignment = optionalNumber(metadata, 'general.alignment') ?? DEFAULT_ALIGNMENT;
  if (!Number.isInteger(alignment) || alignment <= 0) throw new Error(`${path}: general.alignment ${alignment} is not a positive integer`);
  // Tensor data starts at the first aligned byte after the tensor-info table; offsets are relative to it.
  const infoEnd = parsed.tensorInfoByteRange[1];
  const dataStart = Math.ceil(infoEnd / alignment) * alignment;
  const tensors = parsed.tensorInfos.map((info): GgufTensorEntry => {
    const ne = info.shape.map((d) => toSafeNumber(d, `tensor '${info.name}' dimension`));
    const count = ne.reduce((a, b) => a * b, 1);
    const relative = toSafeNumber(info.offset, `tensor '${info.name}' offset`);
    if (relative % alignment !== 0) throw new Error(`${path}: tensor '${info.name}' offset ${relative} is not aligned to ${alignment}`);
    return {
      name: info.name,
      dims: [...ne].reverse(),
      type: info.dtype,
      fileOffset: dataStart + relative,
      byteLength: ggmlByteSize(info.dtype, count, info.name),
    };
  });
  const tokenizerMetadata = tokenizerMetadataFromGguf(metadata, path);
  const config = llamaConfigFromGguf(metadata, new Set(tensors.map((t) => t.name)), tokenizerMetadata.tokens.length, path);
  return { path, metadata, config, tokenizerMetadata, tensors };
}

function checkDims(name: string, dims: readonly number[], expected: readonly number[], path: string): void {
  if (dims.length !== expected.length || dims.some((d, i) => d !== expected[i])) {
    throw new Error(`${path}: tensor '${name}' has dims [${dims.join(', ')}], expected [${expected.join(', ')}] from the metadata`);
  }
}

/** Loads every LLaMA tensor as float32 under its HuggingFace name, with Q/K rows back in rotate-half order. */
export async function loadGguf(path: string): Promise<GgufModel> {
  const header = await readGgufHeader(path);
  const { config } = header;
  const weights = new Map<string, WeightTensor>();
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    for (const tensor of header.tensors) {
      if (tensor.fileOffset + tensor.byteLength > size) {
        throw new Error(
          `${path}: tensor '${tensor.name}' ends at byte ${tensor.fileOffset + tensor.byteLength} but the file has ${size} bytes; ` +
            'the file is truncated: copy or download it again',
        );
      }
    }
    for (const tensor of header.tensors) {
      const hfName = hfNameForGgufTensor(tensor.name);
      if (hfName === undefined) continue; // e.g. rope_freqs: recomputed from the config
      const bytes = new Uint8Array(tensor.byteLength);
      await file.read(bytes, 0, tensor.byteLength, tensor.fileOffset);
      const count = tensor.dims.reduce((a, b) => a * b, 1);
      let data = dequantizeGgml(tensor.type, bytes, count, tensor.name);
      const role = rotaryRole(tensor.name);
      if (role !== undefined) {
        const heads = role === 'q' ? config.numHeads : config.numKvHeads;
        checkDims(tensor.name, tensor.dims, [heads * config.headDim, config.hiddenSize], path);
        data = unpermuteFromInterleaved(data, heads * config.headDim, config.hiddenSize, heads, tensor.name);
      }
      weights.set(hfName, { dims: tensor.dims, data });
      // Decoding ~100 MB is CPU work: give other callbacks (heartbeats) a turn between tensors.
      await new Promise((resolve) => setImmediate(resolve));
    }
  } finally {
    await file.close();
  }
  const embed = weights.get('model.embed_tokens.weight');
  if (!embed) throw new Error(`${path}: no 'token_embd.weight' tensor; the file is not a complete LLaMA export`);
  checkDims('token_embd.weight', embed.dims, [config.vocabSize, config.hiddenSize], path);
  for (let layer = 0; layer < config.numLayers; layer++) {
    if (!weights.has(`model.layers.${layer}.self_attn.q_proj.weight`)) {
      throw new Error(`${path}: block ${layer} has no attn_q tensor although block_count is ${config.numLayers}`);
    }
  }
  return { config, weights, tokenizerMetadata: header.tokenizerMetadata };
}
