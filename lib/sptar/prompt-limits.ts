// The word limits of the SPTAR prompt, from the prompt settings (`promptTuning.maxDocumentWords`/`maxQueryWords`,
// or a generation stage's settings): built here once for prompt tuning, the example filter, generation and the
// benchmarks, so all of them cut documents and queries alike.
import type { LoadedLlm } from '../models/llm-source.ts';
import type { PromptLimits } from '../weak-data/index.ts';
import { PromptTokenizer } from './prompt-tokens.ts';

export interface PromptWordLimits {
  /** Documents (examples' and the target's) are cut to this many words. */
  readonly maxDocumentWords: number;
  /** Example and target queries are cut to this many words. */
  readonly maxQueryWords: number;
}

export function promptLimits(settings: PromptWordLimits): PromptLimits {
  return { document: { unit: 'words', max: settings.maxDocumentWords }, query: { unit: 'words', max: settings.maxQueryWords } };
}

/** The SPTAR prompt layout over the LLM's tokenizer, cut to the settings' word limits. */
export function promptTokenizer(llm: Pick<LoadedLlm, 'tokenizer' | 'eosTokenId'>, settings: PromptWordLimits): PromptTokenizer {
  return new PromptTokenizer(llm.tokenizer, llm.eosTokenId, promptLimits(settings));
}
