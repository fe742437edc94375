import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { randomBertWeights, TINY_BERT } from '../../../lib/models/tiny-models.ts';
import { cachedGraphPath, weightsDigest } from '../../../lib/onnx/graph-cache.ts';
import { DenseEncoder, EncoderTrainer } from '../../../lib/sptar/dense-encoder.ts';
import { AdamW } from '../../../lib/training/adamw.ts';
import { loadTokenizerJson } from '../../../lib/tokenizers/tokenizer-files.ts';
import type { TextTokenizer } from '../../../lib/tokenizers/text-tokenizer.ts';
import { MINILM_TOKENIZER, skipUnlessInstalled } from '../../support/models.ts';

// A tiny random BERT over the real MiniLM WordPiece vocabulary, so real text can be encoded.
const config = { ...TINY_BERT, vocabSize: 30522, maxPositions: 64 };
const weights = randomBertWeights(config, 11, 0.5);

describe('dense encoder and trainer on a tiny BERT', { skip: skipUnlessInstalled(MINILM_TOKENIZER) }, () => {
  let tokenizer: TextTokenizer;
  let cacheDir: string;
  before(async () => {
    tokenizer = await loadTokenizerJson(MINILM_TOKENIZER);
    cacheDir = await mkdtemp(join(tmpdir(), 'sptar-graphs-'));
  });
  after(() => rm(cacheDir, { recursive: true, force: true }));

  it('a training graph cached by the builder before hard negatives is not reused: a batch with a hard negative trains', async () => {
    const staleDir = await mkdtemp(join(tmpdir(), 'sptar-stale-graphs-'));
    try {
      // The key the old code cached its training graph under (no graph version), holding bytes that are no graph.
      await cachedGraphPath({ architecture: 'bert', graph: 'mnrl-training-step', weightsDigest: weightsDigest(weights, true), options: { scale: 20, cfg: config } }, () => new Uint8Array([1, 2, 3]), staleDir);
      const trainer = await EncoderTrainer.open(weights, config, tokenizer, { scale: 20, maxLength: 32 }, { cacheDir: staleDir });
      try {
        const { loss, gradients } = await trainer.lossAndGradients(trainer.trainable(weights), ['protein folding', 'bone density'], ['how proteins fold', 'bone density in adults', 'a hard negative about cells']);
        assert.ok(Number.isFinite(loss) && loss > 0);
        assert.equal(gradients.length, trainer.weightNames.length);
      } finally {
        await trainer.release();
      }
    } finally {
      await rm(staleDir, { recursive: true, force: true });
    }
  });

  it('returns unit vectors that do not depend on batch padding', async () => {
    const enc = await DenseEncoder.open(weights, config, tokenizer, 32, { cacheDir });
    const texts = ['protein folding', 'a much longer sentence about vitamin d and bone density in adults', 'cells'];
    const together = await enc.encode(texts, 3);
    const alone = await enc.encode([texts[2]!], 1);
    const d = config.hiddenSize;
    for (let i = 0; i < 3; i++) {
      const norm = Math.hypot(...together.subarray(i * d, (i + 1) * d));
      assert.ok(Math.abs(norm - 1) < 1e-5, `norm ${norm}`);
    }
    for (let j = 0; j < d; j++) assert.ok(Math.abs(together[2 * d + j]! - alone[j]!) < 1e-5);
    await enc.release();
  });

  it('encodes and trains identically in its worker thread (the default) and on the JS thread', async () => {
    const texts = ['protein folding', 'vitamin d and bone density in adults'];
    const threaded = await DenseEncoder.open(weights, config, tokenizer, 32, { cacheDir });
    const local = await DenseEncoder.open(weights, config, tokenizer, 32, { cacheDir, worker: false });
    try {
      assert.deepEqual(await threaded.encode(texts, 2), await local.encode(texts, 2));
    } finally {
      await threaded.release();
      await local.release();
    }
    const trainers = [
      await EncoderTrainer.open(weights, config, tokenizer, { scale: 20, maxLength: 32 }, { cacheDir }),
      await EncoderTrainer.open(weights, config, tokenizer, { scale: 20, maxLength: 32 }, { cacheDir, worker: false }),
    ];
    try {
      const [a, b] = await Promise.all(trainers.map((t) => t.lossAndGradients(t.trainable(weights), texts, ['how proteins fold', 'bone density'])));
      assert.equal(a?.loss, b?.loss);
      assert.deepEqual(a?.gradients, b?.gradients);
    } finally {
      for (const t of trainers) await t.release();
    }
  });

  it('AdamW steps on the in-batch-negatives loss lower it', async () => {
    const trainer = await EncoderTrainer.open(weights, config, tokenizer, { scale: 20, maxLength: 32 }, { cacheDir });
    const queries = ['vitamin d bone', 'protein folding', 'insulin resistance', 'tumor growth'];
    const docs = ['vitamin d and bone density', 'how proteins fold', 'insulin and diabetes', 'cancer tumors grow'];
    const params = trainer.trainable(weights);
    const opt = new AdamW(params.map((p) => p.length), { weightDecay: 0.01 });
    const first = (await trainer.lossAndGradients(params, queries, docs)).loss;
    let last = first;
    for (let step = 0; step < 15; step++) {
      const { loss, gradients } = await trainer.lossAndGradients(params, queries, docs);
      last = loss;
      opt.step(params, gradients, 1e-2);
    }
    assert.ok(Number.isFinite(first));
    assert.ok(last < first * 0.5, `loss ${first} -> ${last}`);
    // The trained tensors go back into a weight map the encoder can load.
    const trained = trainer.withTrained(weights, params);
    assert.equal(trained.size, weights.size);
    await trainer.release();
  });
});
