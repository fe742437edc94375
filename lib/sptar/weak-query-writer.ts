// The soft prompt augmentor (and, without a soft prompt and with fixed examples, the InPars-style baseline):
// greedy decoding of one query per document after [soft prompt][examples][document], the shared prefix's
// keys/values computed once, then the authors' post-processing. A document without a usable query is a recorded
// failure with its reason.
import { generate } from '../generation/generate.ts';
import type { CausalDecoder } from '../generation/decoder-step.ts';
import { buildPrefixEmbeds, computePrefixCache, type PrefixCache, type PrefixEmbeds } from '../generation/prefix-cache.ts';
import { greedySampler } from '../generation/token-sampler.ts';
import { postProcessGeneratedQuery, type ExamplePair } from '../weak-data/index.ts';
import type { PromptTokenizer } from './prompt-tokens.ts';

export interface WriterDocument {
  readonly title: string;
  readonly text: string;
}

export type WriterOutcome = { readonly query: string } | { readonly failure: string };

export interface WeakQueryWriterOptions {
  readonly maxNewTokens: number;
  readonly batchSize: number;
  /** Compute the shared prefix once (default) or recompute it with every batch. */
  readonly prefixCache: boolean;
}

/** BEIR documents are title + text; the prompt sees them joined by a space, as BEIR's encoders do. */
export const documentString = (d: WriterDocument): string => (d.title ? `${d.title} ${d.text}` : d.text);

export class WeakQueryWriter {
  private prefix: PrefixEmbeds | PrefixCache | undefined;
  private readonly stopTokenIds: number[];

  constructor(
    private readonly model: CausalDecoder,
    private readonly prompts: PromptTokenizer,
    private readonly softPrompt: Float32Array | undefined,
    private readonly examples: readonly ExamplePair[],
    readonly options: WeakQueryWriterOptions,
  ) {
    // Generation stops at the first token that contains a newline: post-processing keeps only the first line.
    this.stopTokenIds = prompts.tokenizer.idsContaining('\n');
  }

  get batchSize(): number {
    return this.options.batchSize;
  }

  private async sharedPrefix(): Promise<PrefixEmbeds | PrefixCache> {
    if (!this.prefix) {
      const embeds = buildPrefixEmbeds(this.model, this.softPrompt, this.prompts.prefixIds(this.examples));
      this.prefix = this.options.prefixCache && embeds.length > 0 ? await computePrefixCache(this.model, embeds) : embeds;
    }
    return this.prefix;
  }

  /** Tokens of the document's own part of the prompt (after the shared prefix); 0 for an empty document. */
  promptTokens(doc: WriterDocument): number {
    const text = documentString(doc);
    return text.trim() === '' ? 0 : this.prompts.documentIds(text).length;
  }

  async generate(docs: readonly WriterDocument[]): Promise<WriterOutcome[]> {
    const out: WriterOutcome[] = new Array(docs.length);
    const prompts: number[][] = [];
    const rowsFor: number[] = [];
    docs.forEach((d, i) => {
      if (documentString(d).trim() === '') out[i] = { failure: 'empty document' };
      else {
        prompts.push(this.prompts.documentIds(documentString(d)));
        rowsFor.push(i);
      }
    });
    if (prompts.length > 0) {
      const prefix = await this.sharedPrefix();
      const { rows } = await generate({
        model: this.model,
        prompts,
        ...(prefix.length > 0 ? { prefix } : {}),
        sampler: greedySampler,
        stopping: { eosTokenIds: [this.prompts.eosTokenId], stopTokenIds: this.stopTokenIds, maxNewTokens: this.options.maxNewTokens },
        padTokenId: this.prompts.eosTokenId,
      });
      rows.forEach((row, j) => {
        const text = this.prompts.tokenizer.decode(row.tokens, { skipSpecialTokens: true });
        const processed = postProcessGeneratedQuery(text);
        out[rowsFor[j]!] = processed.ok ? { query: processed.query } : { failure: processed.reason };
      });
    }
    return out;
  }
}
