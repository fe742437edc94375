// The configured LLM as every LLM stage loads it: real GGUF weights with their tokenizer, or a seeded tiny decoder
// over a real tokenizer's vocabulary (tests and dry runs). The pipeline's activities and the benchmarks load it here.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { MissingModelError } from '../../common/errors.ts';
import type { PipelineConfig } from '../../common/pipeline-config.ts';
import { tokenizerFromGgufMetadata } from '../tokenizers/gguf-tokenizer.ts';
import type { TextTokenizer } from '../tokenizers/text-tokenizer.ts';
import { loadTokenizerJson } from '../tokenizers/tokenizer-files.ts';
import { loadGguf } from '../weights/gguf.ts';
import { decoderParts, type DecoderConfig } from './decoder-graphs.ts';
import type { WeightMap, WeightTensor } from './model-config.ts';
import { randomGpt2Weights, randomLlamaWeights, TINY_GPT2, TINY_LLAMA } from './tiny-models.ts';

export type LlmSource = PipelineConfig['llm'];

export interface LoadedLlm {
  readonly config: DecoderConfig;
  readonly weights: WeightMap;
  readonly tokenizer: TextTokenizer;
  readonly eosTokenId: number;
}

const DEFAULT_TINY_DECODER_TOKENIZER = '../shared/tokenizers/gpt2/tokenizer.json';

/** Loads the configured LLM: real GGUF weights, or a seeded tiny decoder over a real tokenizer's vocabulary. */
export async function loadLlm(source: LlmSource): Promise<LoadedLlm> {
  switch (source.kind) {
    case 'file': {
      const path = resolve(source.path);
      if (!existsSync(path)) throw new MissingModelError(`LLM weights ${path} are missing; run 'bash infra/install.sh models' or fix llm.path`);
      const gguf = await loadGguf(path);
      const tokenizer = tokenizerFromGgufMetadata(gguf.tokenizerMetadata, path);
      const eos = gguf.tokenizerMetadata.eosTokenId ?? tokenizer.special.eos;
      if (eos === undefined) throw new MissingModelError(`${path} names no EOS token; the loss target needs one`);
      return { config: gguf.config, weights: gguf.weights, tokenizer, eosTokenId: eos };
    }
    case 'tiny': {
      const tokPath = resolve(source.tokenizer ?? DEFAULT_TINY_DECODER_TOKENIZER);
      if (!existsSync(tokPath)) throw new MissingModelError(`tokenizer ${tokPath} for the tiny LLM is missing; set llm.tokenizer`);
      const tokenizer = await loadTokenizerJson(tokPath);
      const eos = tokenizer.special.eos;
      if (eos === undefined) throw new MissingModelError(`tokenizer ${tokPath} has no EOS token`);
      if (source.architecture === 'llama') {
        const config = { ...TINY_LLAMA, vocabSize: tokenizer.vocabSize, maxPositions: 2048 };
        return { config, weights: randomLlamaWeights(config, source.seed), tokenizer, eosTokenId: eos };
      }
      if (source.architecture === 'gpt2') {
        const config = { ...TINY_GPT2, vocabSize: tokenizer.vocabSize, maxPositions: 2048 };
        return { config, weights: randomGpt2Weights(config, source.seed), tokenizer, eosTokenId: eos };
      }
      throw new MissingModelError(`llm.architecture '${source.architecture}' is not a decoder; use llama or gpt2`);
    }
  }
}

/** The LLM's token embedding table (vocab x hidden): what a soft prompt is initialised from. */
export function tokenEmbeddings(llm: LoadedLlm): WeightTensor {
  const name = decoderParts(llm.config, llm.weights).embeddingName;
  const embeddings = llm.weights.get(name);
  if (!embeddings) throw new MissingModelError(`the LLM's weights have no token embeddings '${name}'`);
  return embeddings;
}
