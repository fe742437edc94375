// Lint rules that protect the Temporal sandbox and async hygiene.
import tseslint from 'typescript-eslint';

// Workflow code is replayed deterministically in a sandbox: no Node built-ins, no I/O, no native modules.
const sandboxForbidden = {
  patterns: [
    { group: ['node:*'], message: 'Node built-ins are not available in the workflow sandbox.' },
    {
      group: ['fs', 'fs/*', 'path', 'os', 'crypto', 'child_process', 'worker_threads', 'http', 'https', 'net', 'stream', 'url', 'zlib', 'util'],
      message: 'Node built-ins are not available in the workflow sandbox.',
    },
    {
      group: ['onnxruntime-node', 'minio', 'lunr', '@temporalio/worker', '@temporalio/client', '@temporalio/activity', '@temporalio/testing'],
      message: 'Heavy or non-deterministic modules belong in activities, not workflow code.',
    },
    { group: ['**/activities/*', '**/lib/*', '**/workers/*', '**/infra/*'], message: 'Workflow code may import only workflows/ and common/ (and activity types via import type).', allowTypeImports: true },
  ],
};

export default tseslint.config(
  { ignores: ['node_modules/**', '.tools/**', '.cache/**', '.state/**', 'models/**', 'artifacts/**', 'dist/**'] },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.base],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // node:test's describe/it return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    files: ['workflows/**/*.ts', 'common/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', sandboxForbidden] },
  },
  {
    // The pure ML/IR library knows nothing about Temporal.
    files: ['lib/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [{ group: ['@temporalio/*'], message: 'lib/ is pure ML/IR code: no Temporal imports.' }] },
      ],
    },
  },
);
