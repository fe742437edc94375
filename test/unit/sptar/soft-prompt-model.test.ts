import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tinyLlama } from '../../../lib/models/tiny-models.ts';
import { initialSoftPrompt, lossItem, SoftPromptModel } from '../../../lib/sptar/soft-prompt-model.ts';

describe('soft prompt model on a tiny seeded LLaMA', () => {
  const { config, weights } = tinyLlama(3);
  const l = 3;
  let model: SoftPromptModel;
  let cacheDir: string;
  const items = [lossItem([1, 2, 3], [4, 5]), lossItem([6, 7], [8, 9, 10]), lossItem([2, 2, 2, 2], [3])];

  before(async () => {
    cacheDir = await mkdtemp(join(tmpdir(), 'sptar-graphs-'));
    model = await SoftPromptModel.open(weights, config, l, { cacheDir });
  });
  after(async () => {
    await model.release();
    await rm(cacheDir, { recursive: true, force: true });
  });

  it('initialises the prompt by tiling the init text embeddings', () => {
    const emb = weights.get('model.embed_tokens.weight')!;
    const h = config.hiddenSize;
    const p = initialSoftPrompt(emb, [5, 7], l);
    assert.deepEqual([...p.subarray(0, h)], [...emb.data.subarray(5 * h, 6 * h)]);
    assert.deepEqual([...p.subarray(h, 2 * h)], [...emb.data.subarray(7 * h, 8 * h)]);
    assert.deepEqual([...p.subarray(2 * h, 3 * h)], [...emb.data.subarray(5 * h, 6 * h)]);
  });

  it('batched, padded evaluation equals the mean of single-item losses', async () => {
    const prompt = initialSoftPrompt(weights.get('model.embed_tokens.weight')!, [1, 2, 3], l);
    const singles = await Promise.all(items.map(async (it) => (await model.lossAndGradient(prompt, it)).loss));
    const mean = singles.reduce((a, b) => a + b, 0) / singles.length;
    assert.ok(Math.abs((await model.meanLoss(prompt, items, 3)) - mean) < 1e-5);
    assert.ok(Math.abs((await model.meanLoss(prompt, items, 2)) - mean) < 1e-5);
  });

  it('the prompt gradient matches central finite differences', async () => {
    const prompt = initialSoftPrompt(weights.get('model.embed_tokens.weight')!, [4, 9], l);
    const { gradient } = await model.lossAndGradient(prompt, items[1]!);
    // float32 graph: eps 1e-2 and a 2e-2 relative tolerance (float32 central differences stop near 1e-2).
    for (const i of [0, 5, 11, 20]) {
      const plus = Float32Array.from(prompt);
      const minus = Float32Array.from(prompt);
      plus[i]! += 1e-2;
      minus[i]! -= 1e-2;
      const fd = ((await model.lossAndGradient(plus, items[1]!)).loss - (await model.lossAndGradient(minus, items[1]!)).loss) / 2e-2;
      assert.ok(Math.abs(fd - gradient[i]!) <= 2e-2 * Math.max(1e-2, Math.abs(fd)) + 2e-3, `coordinate ${i}: fd ${fd} vs ${gradient[i]}`);
    }
  });
});
