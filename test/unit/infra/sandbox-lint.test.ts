// The lint rule that keeps Node built-ins and heavy modules out of workflow code really fires.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ESLint } from 'eslint';
import { repoRoot } from '../../support/services.ts';

const eslint = new ESLint({ cwd: repoRoot });

async function ruleIds(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`);
}

describe('workflow sandbox lint', () => {
  it('rejects Node built-ins and heavy modules in workflows/ and common/', async () => {
    const code = "import { readFile } from 'node:fs/promises';\nimport * as ort from 'onnxruntime-node';\nexport const x = [readFile, ort];\n";
    const messages = await ruleIds(code, 'workflows/smoke-workflow.ts');
    assert.equal(messages.length, 2);
    assert.match(messages[0]!, /no-restricted-imports: .*Node built-ins are not available in the workflow sandbox/);
    assert.match(messages[1]!, /no-restricted-imports: .*Heavy or non-deterministic modules belong in activities/);
    assert.equal((await ruleIds("import { Client } from 'minio';\nexport const c = Client;\n", 'common/errors.ts')).length, 1);
  });

  it('allows the same imports in activities/', async () => {
    const code = "import { readFile } from 'node:fs/promises';\nexport const x = readFile;\n";
    assert.deepEqual(await ruleIds(code, 'activities/smoke-activities.ts'), []);
  });
});
