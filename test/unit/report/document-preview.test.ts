import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { documentPreview } from '../../../lib/report/document-preview.ts';
import { escapeHtml } from '../../../lib/report/html-escape.ts';

describe('document preview', () => {
  it('joins title and text and cuts at a word boundary', () => {
    assert.equal(documentPreview({ title: 'T', text: 'one  two\nthree' }), 'T. one two three');
    assert.equal(documentPreview({ title: '', text: 'alpha beta gamma delta' }, 12), 'alpha beta…');
    assert.equal(documentPreview({ text: 'x'.repeat(20) }, 10), `${'x'.repeat(10)}…`);
  });

  it('escapes every HTML special character', () => {
    assert.equal(escapeHtml(`<a href="x">Tom's & Jerry</a>`), '&lt;a href=&quot;x&quot;&gt;Tom&#39;s &amp; Jerry&lt;/a&gt;');
  });
});
