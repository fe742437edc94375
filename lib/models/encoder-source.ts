// The configured starting encoder of the dense retriever, as every dense stage loads it: a HuggingFace BERT folder,
// or a seeded tiny random BERT over a real WordPiece vocabulary (tests and dry runs). The pipeline's activities and
// the benchmarks load it here, and read trained weights back in place of its own.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConfigError, CorruptArtifactError, MissingModelError } from '../../common/errors.ts';
import type { PipelineConfig } from '../../common/pipeline-config.ts';
import { weightsDigest } from '../onnx/graph-cache.ts';
import type { TextTokenizer } from '../tokenizers/text-tokenizer.ts';
import { loadTokenizerJson } from '../tokenizers/tokenizer-files.ts';
import { loadBertCheckpoint, normaliseCheckpointNames } from '../weights/hf-checkpoint.ts';
import { parseSafetensors } from '../weights/safetensors.ts';
import type { BertConfig, WeightMap, WeightTensor } from './model-config.ts';
import { randomBertWeights, TINY_BERT } from './tiny-models.ts';

export type EncoderSource = PipelineConfig['encoder'];

/** Tiny encoders borrow the installed MiniLM WordPiece vocabulary, so they read real text like the real encoder. */
const DEFAULT_TINY_ENCODER_TOKENIZER = 'models/all-minilm-l6-v2/tokenizer.json';
const INSTALL_HINT = "run 'bash infra/install.sh models'";

/** What encoding and training need of an encoder: its architecture, weights and tokenizer. */
export interface EncoderModel {
  readonly config: BertConfig;
  readonly weights: WeightMap;
  readonly tokenizer: TextTokenizer;
}

export interface LoadedEncoder extends EncoderModel {
  /** config.json of the encoder, stored beside exported weights so they load as a HuggingFace folder. */
  readonly configJson: string;
  /** sha256 over the weights: the identity of the starting encoder in artifact keys. */
  readonly digest: string;
}

function requireFile(path: string, what: string): void {
  if (!existsSync(path)) throw new MissingModelError(`${what} ${path} is missing; ${INSTALL_HINT} or point the encoder setting at an installed model`);
}

/** config.json of a BERT encoder, as HuggingFace writes it for `BertModel`. */
export function hfBertConfigJson(cfg: BertConfig): string {
  return `${JSON.stringify(
    {
      architectures: ['BertModel'],
      model_type: 'bert',
      vocab_size: cfg.vocabSize,
      hidden_size: cfg.hiddenSize,
      num_hidden_layers: cfg.numLayers,
      num_attention_heads: cfg.numHeads,
      intermediate_size: cfg.intermediateSize,
      hidden_act: 'gelu',
      layer_norm_eps: cfg.layerNormEps,
      max_position_embeddings: cfg.maxPositions,
      type_vocab_size: cfg.typeVocabSize,
      position_embedding_type: 'absolute',
    },
    null,
    2,
  )}\n`;
}

/**
 * The configured starting encoder: a HuggingFace BERT folder (model.safetensors, config.json, tokenizer.json), or a
 * seeded tiny random BERT over a real WordPiece vocabulary (by default the installed MiniLM's). Relative paths are
 * resolved against the working directory, the repository root for workers and tests.
 */
export async function loadEncoder(source: EncoderSource): Promise<LoadedEncoder> {
  switch (source.kind) {
    case 'file': {
      const dir = resolve(source.path);
      requireFile(join(dir, 'model.safetensors'), 'encoder weights');
      requireFile(join(dir, 'config.json'), 'encoder config');
      requireFile(join(dir, 'tokenizer.json'), 'encoder tokenizer');
      const { config, weights } = await loadBertCheckpoint(dir);
      const tokenizer = await loadTokenizerJson(join(dir, 'tokenizer.json'));
      const configJson = await readFile(join(dir, 'config.json'), 'utf8');
      return { config, weights, tokenizer, configJson, digest: weightsDigest(weights) };
    }
    case 'tiny': {
      if (source.architecture !== 'bert') throw new ConfigError(`encoder.architecture: a dense encoder must be 'bert', got '${source.architecture}'`);
      const tokPath = resolve(source.tokenizer ?? DEFAULT_TINY_ENCODER_TOKENIZER);
      requireFile(tokPath, 'WordPiece tokenizer for the tiny encoder');
      const tokenizer = await loadTokenizerJson(tokPath);
      const config: BertConfig = { ...TINY_BERT, vocabSize: tokenizer.vocabSize, maxPositions: 512 };
      const weights = randomBertWeights(config, source.seed);
      return { config, weights, tokenizer, configJson: hfBertConfigJson(config), digest: weightsDigest(weights) };
    }
  }
}

/** Tokens per text the encoder reads: the configured length, capped by the encoder's position table. */
export const encoderMaxLength = (config: { readonly retriever: { readonly maxSequenceLength: number } }, encoder: BertConfig): number =>
  Math.min(config.retriever.maxSequenceLength, encoder.maxPositions);

/**
 * Trained weights (model.safetensors bytes as training exports them) in place of the base ones; every base tensor
 * must be present with its shape, else the file is from another base model.
 */
export function trainedWeights(bytes: Uint8Array, source: string, base: WeightMap): Map<string, WeightTensor> {
  const trained = normaliseCheckpointNames(parseSafetensors(bytes, source).weights);
  const out = new Map<string, WeightTensor>();
  for (const [name, t] of base) {
    const w = trained.get(name);
    if (!w || w.dims.length !== t.dims.length || w.dims.some((d, i) => d !== t.dims[i])) {
      throw new CorruptArtifactError(`${source}: tensor '${name}' is missing or has another shape than the configured encoder's; the encoder was trained from another base model`);
    }
    out.set(name, w);
  }
  return out;
}
