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

  it('names the epochs a weak-first retriever trained on weak pairs alone, and nothing for mixed ones', () => {
    const base = {
      title: 'SPTAR run r2',
      dataset: 'scifact',
      codeVersion: '0.1.0',
      config: {},
      counts: {},
      systems: [],
      artifacts: [],
    };
    const curve = [{ epoch: 0, value: 0.5 }, { epoch: 1, value: 0.4 }, { epoch: 2, value: 0.6 }];
    const weakFirst = renderMarkdownReport({
      ...base,
      retrievers: [
        { name: 'W/O', bestEpoch: 1, bestDevScore: 0.4, devScore: curve.slice(0, 2) },
        { name: 'SPTAR', bestEpoch: 2, bestDevScore: 0.6, devScore: curve, weakEpochs: 1 },
      ],
    });
    assert.ok(weakFirst.includes('Best epochs: W/O 1 (0.4000), SPTAR 2 (0.6000).\n\nWeak-first schedule: SPTAR trained epoch 1 on its weak pairs alone, the later epochs on the labeled pairs.\n'), weakFirst);
    const mixed = renderMarkdownReport({ ...base, retrievers: [{ name: 'SPTAR', bestEpoch: 2, bestDevScore: 0.6, devScore: curve, weakEpochs: 0 }] });
    assert.ok(!mixed.includes('Weak-first'));
  });
});
