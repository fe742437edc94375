import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePipelineConfig } from '../../../common/pipeline-config.ts';

describe('pipeline config', () => {
  it('fills the SPTAR defaults from an empty object', () => {
    const r = parsePipelineConfig({});
    assert.ok(r.ok);
    assert.equal(r.config.splits.trainPairs, 50);
    assert.equal(r.config.splits.evalQueries, 100);
    assert.equal(r.config.promptTuning.promptLength, 50);
    assert.equal(r.config.promptTuning.learningRate, 3e-2);
    assert.equal(r.config.promptTuning.patience, 6);
    assert.equal(r.config.promptTuning.initText, 'please generate query for this document');
    assert.equal(r.config.weakFilter.k1, 0.9);
    assert.equal(r.config.weakFilter.b, 0.4);
    assert.equal(r.config.retriever.learningRate, 2e-5);
    assert.equal(r.config.retriever.batchSize, 32);
    assert.deepEqual(r.config.llm, { kind: 'file', path: 'models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf' });
    assert.equal(r.config.dataset.path, 'data/scifact');
  });

  it('lists every problem as path, expected and got', () => {
    const r = parsePipelineConfig({ splits: { trainPairs: -3 }, weakFilter: { topK: 'ten' }, llm: { kind: 'hub' } });
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(
      r.message,
      [
        'invalid pipeline config:',
        'splits.trainPairs: Too small: expected number to be >0 (got -3)',
        "llm.kind: Invalid discriminator value. Expected 'file' | 'tiny' (got \"hub\")",
        'weakFilter.topK: Invalid input: expected number, received string (got "ten")',
      ].join('\n'),
    );
  });

  it('rejects unknown keys instead of ignoring a typo', () => {
    const r = parsePipelineConfig({ splits: { trainPair: 10 } });
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.message, /splits: Unrecognized key: "trainPair"/);
  });
});
