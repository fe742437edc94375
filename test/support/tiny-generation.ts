import { fileURLToPath } from 'node:url';

// The generation settings the fault tests' model workers run: the real weak query writer on a seeded tiny LLaMA
// (GPT-2 vocabulary), InPars-style fixed examples so no soft-prompt artifact is needed. Greedy decoding makes its
// output a pure function of the document, so runs with and without faults can be compared query by query. The
// tokenizer path is absolute: workers may run in other working directories, as on other machines (each machine
// has its own install of the model files).
export const TINY_GENERATION_SHARED = {
  llm: { kind: 'tiny', architecture: 'llama', seed: 3, tokenizer: fileURLToPath(new URL('../../../shared/tokenizers/gpt2/tokenizer.json', import.meta.url)) },
  softPrompt: null,
  examples: 'inpars',
  maxDocumentWords: 16,
  maxQueryWords: 8,
  maxNewTokens: 6,
  batchSize: 2,
  prefixCache: true,
} as const;
