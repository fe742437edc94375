// Architecture hyper-parameters and the in-memory weight format shared by weight loaders and model definitions.
// Weight names follow the HuggingFace checkpoint conventions of each architecture, with matrices stored
// row-major in the checkpoint's own orientation (nn.Linear: [out, in]; GPT-2 Conv1D: [in, out]).

/** A dense float32 tensor, row-major. */
export interface WeightTensor {
  readonly dims: readonly number[];
  readonly data: Float32Array;
}

/** Weights by HuggingFace name, e.g. `model.layers.0.self_attn.q_proj.weight`. */
export type WeightMap = ReadonlyMap<string, WeightTensor>;

/** LLaMA-family decoder (SmolLM2): RMSNorm, rotary positions (rotate-half layout), GQA, SwiGLU. */
export interface LlamaConfig {
  readonly architecture: 'llama';
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly intermediateSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly rmsNormEps: number;
  readonly ropeTheta: number;
  readonly maxPositions: number;
  /** When true there is no `lm_head.weight`; logits use `model.embed_tokens.weight`. */
  readonly tieWordEmbeddings: boolean;
}

/** The hyper-parameters GPT-2 and BERT share: learned positions, LayerNorm, one head size. */
interface LayerNormTransformerConfig {
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  readonly intermediateSize: number;
  readonly layerNormEps: number;
  readonly maxPositions: number;
}

/** GPT-2-family decoder: learned positions, LayerNorm, fused QKV Conv1D, GELU (tanh) MLP. */
export interface Gpt2Config extends LayerNormTransformerConfig {
  readonly architecture: 'gpt2';
}

/** BERT encoder (all-MiniLM-L6-v2) with mean pooling over the attention mask. */
export interface BertConfig extends LayerNormTransformerConfig {
  readonly architecture: 'bert';
  readonly typeVocabSize: number;
}
