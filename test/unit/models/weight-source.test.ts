import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildDecoderStepGraph } from '../../../lib/models/decoder-graphs.ts';
import { tinyLlama } from '../../../lib/models/tiny-models.ts';

describe('weight sources', () => {
  it('a missing weight is named with the fix', () => {
    const { config, weights } = tinyLlama(1);
    const partial = new Map(weights);
    partial.delete('model.layers.1.mlp.up_proj.weight');
    assert.throws(() => buildDecoderStepGraph(partial, config), /Weight "model\.layers\.1\.mlp\.up_proj\.weight" is missing .*naming/);
  });

  it('a config that does not match the checkpoint names the tensor and both shapes', () => {
    const { config, weights } = tinyLlama(1);
    assert.throws(() => buildDecoderStepGraph(weights, { ...config, intermediateSize: 10 }), /"model\.layers\.0\.mlp\.gate_proj\.weight" has dims \[12, 8\] but the config implies \[10, 8\]/);
  });
});
