import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildInparsPrompt, buildSptarPrompt, INPARS_EXAMPLES, truncateText } from '../../../lib/weak-data/index.ts';

describe('prompt templates', () => {
  it('builds the SPTAR template with literal " \\n " separators and a trailing space', () => {
    const prompt = buildSptarPrompt([{ document: 'd one', query: 'q one' }, { document: 'd two', query: 'q two' }], 'target doc');
    assert.equal(prompt, 'Document: d one \n Relevant Query: q one \n Document: d two \n Relevant Query: q two \n Document: target doc \n Relevant Query: ');
    assert.equal(buildSptarPrompt([], 'only'), 'Document: only \n Relevant Query: ');
  });

  it('cuts documents and queries by words or by characters, flattening newlines', () => {
    const limits = { document: { unit: 'words', max: 3 }, query: { unit: 'chars', max: 5 } } as const;
    assert.equal(
      buildSptarPrompt([{ document: 'one two\nthree four', query: 'abcdefgh' }], 'a  b c d e', limits),
      'Document: one two three \n Relevant Query: abcde \n Document: a b c \n Relevant Query: ',
    );
    assert.equal(truncateText('ab 😀😀 cd', { unit: 'chars', max: 4 }), 'ab 😀');
    assert.equal(truncateText('ab cd', { unit: 'chars', max: 3 }), 'ab');
    assert.equal(truncateText('x', { unit: 'words', max: 0 }), '');
  });

  it('the InPars-style prompt carries the three fixed examples before the document', () => {
    const prompt = buildInparsPrompt('New doc.');
    assert.equal(INPARS_EXAMPLES.length, 3);
    assert.equal(prompt.split(' \n Relevant Query: ').length, 5); // three examples and the target
    assert.ok(prompt.startsWith(`Document: ${INPARS_EXAMPLES[0]!.document} \n Relevant Query: ${INPARS_EXAMPLES[0]!.query} \n Document: `));
    assert.ok(prompt.endsWith(' \n Document: New doc. \n Relevant Query: '));
  });
});
