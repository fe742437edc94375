import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { postProcessGeneratedQuery } from '../../../lib/weak-data/generated-query.ts';

describe('generated query post-processing', () => {
  it('keeps the first line only', () => {
    assert.deepEqual(postProcessGeneratedQuery(' Does aspirin reduce stroke risk? \n Document: next doc'), { ok: true, query: 'Does aspirin reduce stroke risk?' });
    assert.deepEqual(postProcessGeneratedQuery('what causes fever\r\nmore'), { ok: true, query: 'what causes fever' });
  });

  it('drops a segment that immediately repeats the previous one, but not a later repeat', () => {
    assert.deepEqual(postProcessGeneratedQuery('Does X cause Y? Does X cause Y? does x cause y?'), { ok: true, query: 'Does X cause Y?' });
    assert.deepEqual(postProcessGeneratedQuery('A is B. C is D. A is B.'), { ok: true, query: 'A is B. C is D. A is B.' });
  });

  it('cuts an echoed template marker and collapses whitespace', () => {
    assert.deepEqual(postProcessGeneratedQuery('statins   and  dementia Relevant Query: statins and dementia'), { ok: true, query: 'statins and dementia' });
  });

  it('reports an empty result as a failure with its reason', () => {
    assert.deepEqual(postProcessGeneratedQuery('   '), { ok: false, reason: 'the model generated only whitespace' });
    assert.deepEqual(postProcessGeneratedQuery('\nsecond line'), { ok: false, reason: 'the first generated line is empty (output began with a newline)' });
    assert.deepEqual(postProcessGeneratedQuery('Document: x'), { ok: false, reason: 'the first line holds only template text (e.g. "Document:")' });
  });
});
