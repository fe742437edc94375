// Prompt tuning end to end on the real graphs of a tiny seeded LLaMA: the frozen model, exact gradients from the
// ONNX loss graph, the SPTAR loop. The targets follow a pattern the prompt can encode, so S_eval loss must fall.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tinyLlama } from '../../../lib/models/tiny-models.ts';
import { tunePrompt } from '../../../lib/sptar/prompt-tuning.ts';
import { initialSoftPrompt, lossItem, SoftPromptModel } from '../../../lib/sptar/soft-prompt-model.ts';

describe('soft prompt tuning on a tiny LLaMA', () => {
  const { config, weights } = tinyLlama(9);
  let model: SoftPromptModel;
  let cacheDir: string;
  before(async () => {
    cacheDir = await mkdtemp(join(tmpdir(), 'sptar-graphs-'));
    model = await SoftPromptModel.open(weights, config, 4, { cacheDir });
  });
  after(async () => {
    await model.release();
    await rm(cacheDir, { recursive: true, force: true });
  });

  it('lowers the S_eval loss and keeps the best epoch', async () => {
    // "Documents" are varied token strings; the "query" is always tokens 7, 3: learnable from the prompt alone.
    const train = [[1, 2], [4, 5, 6], [2, 9], [8, 1, 1]].map((d) => lossItem(d, [7, 3]));
    const evalSet = [[5, 5], [9, 4, 2]].map((d) => lossItem(d, [7, 3]));
    const init = initialSoftPrompt(weights.get('model.embed_tokens.weight')!, [1, 2], 4);
    const r = await tunePrompt(init, train, evalSet, { lossAndGradient: (p, i) => model.lossAndGradient(p, i), evalLoss: (p, items) => model.meanLoss(p, items) }, {
      learningRate: 3e-2,
      maxEpochs: 8,
      patience: 6,
      shuffle: (n) => Array.from({ length: n }, (_, i) => i),
    });
    const initial = r.curve[0]!.evalLoss;
    assert.ok(r.bestEvalLoss < initial * 0.8, `S_eval loss ${initial.toFixed(4)} -> ${r.bestEvalLoss.toFixed(4)}`);
    assert.ok(r.bestEpoch > 0);
    assert.equal(r.bestEvalLoss, Math.min(...r.curve.map((c) => c.evalLoss)));
  });
});
