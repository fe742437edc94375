// The decoder-step contract on a real model: the lib/models step graph run by onnxruntime (through
// lib/onnx/session.ts). Embedding lookup is a plain table read from the weight map.
import { buildDecoderStepGraph, decoderParts, DECODER_NAMES, type DecoderConfig } from '../models/decoder-graphs.ts';
import type { WeightMap, WeightTensor } from '../models/model-config.ts';
import { hostTensor, ModelSession, type HostTensor } from '../onnx/session.ts';
import type { CausalDecoder, DecoderStepInput, DecoderStepOutput, KvTensor, LayerKv } from './decoder-step.ts';

function toInt64(values: Int32Array): BigInt64Array {
  const out = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = BigInt(values[i] ?? 0);
  return out;
}

function asKv(t: HostTensor | undefined, name: string): KvTensor {
  if (!t || !(t.data instanceof Float32Array) || t.dims.length !== 4) throw new Error(`decoder output '${name}' is not a float32 4-D tensor`);
  return { dims: [t.dims[0] ?? 0, t.dims[1] ?? 0, t.dims[2] ?? 0, t.dims[3] ?? 0], data: t.data };
}

export class OnnxCausalDecoder implements CausalDecoder {
  readonly hiddenSize: number;
  readonly vocabSize: number;

  private constructor(
    private readonly cfg: DecoderConfig,
    private readonly embeddings: WeightTensor,
    private readonly kvHeads: number,
    private readonly headDim: number,
    private readonly sessions: { readonly all?: ModelSession; readonly last?: ModelSession },
  ) {
    this.hiddenSize = cfg.hiddenSize;
    this.vocabSize = cfg.vocabSize;
  }

  /**
   * Builds the step graph(s): 'last' serves decoding, 'all' serves perplexity; each session holds its own copy
   * of the weights, so create only what is needed. The sessions run in a worker thread unless `worker` is false:
   * a prefill chunk of a real model blocks for seconds, which would stall Temporal heartbeats on the JS thread.
   */
  static async create(weights: WeightMap, cfg: DecoderConfig, logits: readonly ('all' | 'last')[] = ['last'], options: { readonly worker?: boolean } = {}): Promise<OnnxCausalDecoder> {
    const parts = decoderParts(cfg, weights);
    const embeddings = weights.get(parts.embeddingName);
    if (!embeddings) throw new Error(`weights have no '${parts.embeddingName}' embedding table`);
    const make = async (mode: 'all' | 'last') =>
      logits.includes(mode)
        ? ModelSession.create(buildDecoderStepGraph(weights, cfg, { logits: mode, sharedPrefix: true }).toBytes(), {
            label: `${cfg.architecture} decoder step (${mode} logits)`,
            worker: options.worker ?? true,
          })
        : undefined;
    const all = await make('all');
    const last = await make('last');
    return new OnnxCausalDecoder(cfg, embeddings, parts.kvHeads, parts.headDim, { ...(all ? { all } : {}), ...(last ? { last } : {}) });
  }

  embed(ids: readonly number[]): Float32Array {
    const h = this.hiddenSize;
    const out = new Float32Array(ids.length * h);
    ids.forEach((id, i) => {
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) throw new Error(`token id ${id} is outside the vocabulary of ${this.vocabSize}`);
      out.set(this.embeddings.data.subarray(id * h, (id + 1) * h), i * h);
    });
    return out;
  }

  async step(input: DecoderStepInput): Promise<DecoderStepOutput> {
    const session = input.logitsFor === 'all' ? (this.sessions.all ?? undefined) : (this.sessions.last ?? this.sessions.all);
    if (!session) throw new Error(`no decoder session computes '${input.logitsFor}' logits; create the decoder with that mode`);
    const { batchSize: b, seqLen: s } = input;
    const pastLen = input.past?.[0]?.key.dims[2] ?? 0;
    const prefixLen = input.prefix?.[0]?.key.dims[2] ?? 0;
    const prefixBatch = input.prefix?.[0]?.key.dims[0] ?? 1;
    if (prefixBatch !== 1) throw new Error(`the shared prefix cache must have batch 1 (one copy serves every row), got batch ${prefixBatch}`);
    const feeds: Record<string, HostTensor> = {
      [DECODER_NAMES.inputsEmbeds]: hostTensor('float32', [b, s, this.hiddenSize], input.inputsEmbeds),
      [DECODER_NAMES.attentionMask]: hostTensor('int64', [b, prefixLen + pastLen + s], toInt64(input.attentionMask)),
      [DECODER_NAMES.positionIds]: hostTensor('int64', [b, s], toInt64(input.positionIds)),
    };
    const empty = new Float32Array(0);
    for (let layer = 0; layer < this.cfg.numLayers; layer++) {
      const kv = input.past?.[layer];
      feeds[DECODER_NAMES.pastKey(layer)] = kv ? hostTensor('float32', kv.key.dims, kv.key.data) : hostTensor('float32', [b, this.kvHeads, 0, this.headDim], empty);
      feeds[DECODER_NAMES.pastValue(layer)] = kv ? hostTensor('float32', kv.value.dims, kv.value.data) : hostTensor('float32', [b, this.kvHeads, 0, this.headDim], empty);
      const shared = input.prefix?.[layer];
      feeds[DECODER_NAMES.prefixKey(layer)] = shared ? hostTensor('float32', shared.key.dims, shared.key.data) : hostTensor('float32', [1, this.kvHeads, 0, this.headDim], empty);
      feeds[DECODER_NAMES.prefixValue(layer)] = shared ? hostTensor('float32', shared.value.dims, shared.value.data) : hostTensor('float32', [1, this.kvHeads, 0, this.headDim], empty);
    }
    // The mask and positions were made here; past goes along when the caller is done with it. The shared prefix
    // is reused by every call, so it is always copied.
    const handOver: string[] = [DECODER_NAMES.attentionMask, DECODER_NAMES.positionIds];
    if (input.consumePast && input.past) input.past.forEach((_, layer) => handOver.push(DECODER_NAMES.pastKey(layer), DECODER_NAMES.pastValue(layer)));
    const out = await session.run(feeds, undefined, { transferInputs: handOver });
    const logits = out[DECODER_NAMES.logits];
    if (!logits || !(logits.data instanceof Float32Array)) throw new Error('decoder returned no float32 logits');
    const present: LayerKv[] = [];
    for (let layer = 0; layer < this.cfg.numLayers; layer++) {
      present.push({
        key: asKv(out[DECODER_NAMES.presentKey(layer)], DECODER_NAMES.presentKey(layer)),
        value: asKv(out[DECODER_NAMES.presentValue(layer)], DECODER_NAMES.presentValue(layer)),
      });
    }
    if (input.logitsFor === 'last' && session === this.sessions.all && s > 1) {
      // The all-positions graph served a last-position request: keep each row's final position only.
      const v = this.vocabSize;
      const last = new Float32Array(b * v);
      for (let r = 0; r < b; r++) last.set(logits.data.subarray((r * s + s - 1) * v, (r * s + s) * v), r * v);
      return { logits: last, present };
    }
    return { logits: logits.data, present };
  }

  async release(): Promise<void> {
    await this.sessions.all?.release();
    await this.sessions.last?.release();
  }
}
