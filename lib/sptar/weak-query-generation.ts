// The weak query writer of a generation stage, built from the stage's typed settings: the same writer for every
// shard of the pipeline and for the benchmarks. The soft prompt is passed as floats (null settings.softPrompt: the
// InPars-style baseline, no soft prompt); 'inpars' examples are the fixed hand-written InPars-style pairs.
import type { GenerationSettings } from '../../common/generation-types.ts';
import type { CausalDecoder } from '../generation/decoder-step.ts';
import { OnnxCausalDecoder } from '../generation/onnx-decoder.ts';
import type { LoadedLlm } from '../models/llm-source.ts';
import { INPARS_EXAMPLES, type ExamplePair } from '../weak-data/index.ts';
import { promptTokenizer } from './prompt-limits.ts';
import { WeakQueryWriter, type WriterDocument, type WriterOutcome } from './weak-query-writer.ts';

/** The settings the writer reads (a whole `GenerationSettings` satisfies it). */
export type WriterSettings = Pick<GenerationSettings, 'examples' | 'maxDocumentWords' | 'maxQueryWords' | 'maxNewTokens' | 'batchSize' | 'prefixCache'>;

/** The example pairs of the prompt: the filtered group, or the fixed InPars-style examples. */
export function writerExamples(examples: WriterSettings['examples']): readonly ExamplePair[] {
  return examples === 'inpars' ? INPARS_EXAMPLES : examples;
}

/** A writer over an open decoder of `llm`. */
export function weakQueryWriter(decoder: CausalDecoder, llm: LoadedLlm, settings: WriterSettings, softPrompt: Float32Array | undefined): WeakQueryWriter {
  return new WeakQueryWriter(decoder, promptTokenizer(llm, settings), softPrompt, writerExamples(settings.examples), {
    maxNewTokens: settings.maxNewTokens,
    batchSize: settings.batchSize,
    prefixCache: settings.prefixCache,
  });
}

export interface OpenWeakQueryWriter {
  readonly writer: WeakQueryWriter;
  /** Holds the decoder's sessions; `decoder.release()` frees them (the writer then fails). */
  readonly decoder: OnnxCausalDecoder;
}

/** Opens the LLM's decoder and the writer over it. */
export async function openWeakQueryWriter(llm: LoadedLlm, settings: WriterSettings, softPrompt: Float32Array | undefined): Promise<OpenWeakQueryWriter> {
  const decoder = await OnnxCausalDecoder.create(llm.weights, llm.config);
  return { writer: weakQueryWriter(decoder, llm, settings, softPrompt), decoder };
}

/** Weak queries for all `docs`, in writer batches. */
export async function writeWeakQueries(writer: WeakQueryWriter, docs: readonly WriterDocument[]): Promise<WriterOutcome[]> {
  const out: WriterOutcome[] = [];
  for (let i = 0; i < docs.length; i += writer.batchSize) out.push(...(await writer.generate(docs.slice(i, i + writer.batchSize))));
  return out;
}
