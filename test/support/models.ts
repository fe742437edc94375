// Paths of the installed models, and the rule for tests that need them: they run wherever the models are
// installed; a missing model skips the test on a developer machine but fails it in CI (CI=true), where
// `npm test` installs the models first, so a broken install can never pass silently.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const MODELS_DIR = fileURLToPath(new URL('../../models/', import.meta.url));
export const SMOLLM2_GGUF = `${MODELS_DIR}smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf`;
export const MINILM_DIR = `${MODELS_DIR}all-minilm-l6-v2`;
export const MINILM_TOKENIZER = `${MINILM_DIR}/tokenizer.json`;

/** `skip` option value for describe(): false when present; in CI a missing file throws instead of skipping. */
export function skipUnlessInstalled(path: string): false | string {
  if (existsSync(path)) return false;
  if (process.env['CI'] === 'true') throw new Error(`${path} is missing in CI; run 'bash infra/install.sh models'`);
  return `${path} not installed (bash infra/install.sh models)`;
}
