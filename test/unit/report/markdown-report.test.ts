import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderMarkdownReport } from '../../../lib/report/markdown-report.ts';

describe('markdown report', () => {
  it('renders the metrics table, counts, artifacts and config', () => {
    const md = renderMarkdownReport({
      title: 'SPTAR run r1',
      dataset: 'scifact',
      codeVersion: '0.1.0',
      config: { seed: 13 },
      counts: { documents: 5183, 'test queries': 300 },
      systems: [{ name: 'BM25', metrics: { ndcg10: 0.67891, map100: 0.6, recall100: 0.9, mrr10: 0.65, queries: 300 } }],
      artifacts: [{ key: 'scifact/prepare/abc/splits.json', sha256: 'f'.repeat(64), bytes: 10 }],
    });
    assert.equal(
      md,
      [
        '# SPTAR run r1',
        '',
        'Dataset: **scifact**. Code version: `0.1.0`.',
        '',
        '## Retrieval quality (test queries)',
        '',
        '| system | nDCG@10 | MAP@100 | Recall@100 | MRR@10 | queries |',
        '|---|---:|---:|---:|---:|---:|',
        '| BM25 | 0.6789 | 0.6000 | 0.9000 | 0.6500 | 300 |',
        '',
        '## Data',
        '',
        '| what | count |',
        '|---|---:|',
        '| documents | 5183 |',
        '| test queries | 300 |',
        '',
        '## Artifacts',
        '',
        '| key | bytes | sha256 |',
        '|---|---:|---|',
        '| `scifact/prepare/abc/splits.json` | 10 | `ffffffffffffffff…` |',
        '',
        '## Config',
        '',
        '```json',
        '{\n  "seed": 13\n}',
        '```',
        '',
      ].join('\n'),
    );
  });
});
