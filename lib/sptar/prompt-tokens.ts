// Token layout of an SPTAR prompt, identical in prompt tuning, the example filter and generation:
//   [soft prompt][examples prefix tokens][document part tokens]([query tokens][EOS] when training)
// The examples prefix is the same for every document, so generation computes its keys/values once. Splitting the
// template text at that boundary (and tokenising the parts separately) keeps training and generation aligned.
import type { TextTokenizer } from '../tokenizers/text-tokenizer.ts';
import { buildSptarPrompt, targetQuery, type ExamplePair, type PromptLimits } from '../weak-data/index.ts';
import { lossItem, type LossItem } from './soft-prompt-model.ts';

export interface PromptParts {
  /** The examples and the separator before the target document; empty with no examples. */
  readonly prefixText: string;
  /** "Document: {doc} \n Relevant Query: " */
  readonly documentText: string;
}

export function promptParts(examples: readonly ExamplePair[], document: string, limits: PromptLimits): PromptParts {
  const full = buildSptarPrompt(examples, document, limits);
  const documentText = buildSptarPrompt([], document, limits);
  return { prefixText: full.slice(0, full.length - documentText.length), documentText };
}

export class PromptTokenizer {
  private readonly prefixCache = new Map<string, number[]>();

  constructor(
    readonly tokenizer: TextTokenizer,
    readonly eosTokenId: number,
    readonly limits: PromptLimits,
  ) {}

  /** Tokens of the shared examples prefix (cached: it is the same for every document). */
  prefixIds(examples: readonly ExamplePair[]): number[] {
    const text = promptParts(examples, '', this.limits).prefixText;
    let ids = this.prefixCache.get(text);
    if (!ids) {
      ids = this.tokenizer.encode(text);
      this.prefixCache.set(text, ids);
    }
    return ids;
  }

  documentIds(document: string): number[] {
    return this.tokenizer.encode(promptParts([], document, this.limits).documentText);
  }

  /** A training/evaluation item: prefix + document part, then the query and EOS as the labelled target. */
  trainingItem(examples: readonly ExamplePair[], document: string, query: string): LossItem {
    const target = [...this.tokenizer.encode(targetQuery(query, this.limits)), this.eosTokenId];
    return lossItem([...this.prefixIds(examples), ...this.documentIds(document)], target);
  }
}
