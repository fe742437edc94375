import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { createReportActivities } from '../../../activities/report-activities.ts';
import type { LocalArtifactStore } from '../../../lib/artifact-store/index.ts';
import { reportFixture, seededReportFixture } from './report-fixture.ts';

// t_{0.975, 1}: the 95% Student-t interval of two replicates is mean +- 12.7062 * |a - b| / 2.
const T1 = 12.706204736174707;
const ci = (a: number, b: number) => {
  const m = (a + b) / 2;
  const half = (T1 * Math.abs(a - b)) / 2;
  return `[${(m - half).toFixed(4)}, ${(m + half).toFixed(4)}]`;
};

describe('writeReport with two training replicates and BM25 hybrids', () => {
  let store: LocalArtifactStore;
  let dir: string;
  let markdown: string;
  let html: string;

  before(async () => {
    const fixture = await seededReportFixture();
    ({ store, dir } = fixture);
    const out = await createReportActivities({ store }).writeReport(fixture.input);
    markdown = new TextDecoder().decode(await store.get(out.markdown));
    html = new TextDecoder().decode(await store.get(out.html));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const lines = () => markdown.split('\n');
  const has = (line: string) => assert.ok(lines().includes(line), `missing line: ${line}\n\n${markdown}`);
  const section = (heading: string) => markdown.split(`${heading}\n\n`)[1]!.split('\n\n')[0];

  it('gives one metrics row per system and variant: means over the replicates with a t-CI and the seed count', () => {
    // Test nDCG@10 of the replicates: W/O 0.5667 and 0.4667, InPars-style 0.5 and 0.5333, SPTAR 0.6 and 0.7;
    // hybrids W/O 0.6333 and 0.6667, InPars-style 0.55 and 0.5833, SPTAR 0.6833 and 0.7333.
    assert.equal(
      section('## Retrieval quality (test queries)'),
      [
        '| system | nDCG@10 | MAP@100 | Recall@100 | MRR@10 | queries | seeds | nDCG@10 95% CI (t, over seeds) |',
        '|---|---:|---:|---:|---:|---:|---:|---:|',
        '| BM25 | 0.4000 | 0.2000 | 0.9000 | 0.4000 | 3 | 1 | n/a |',
        '| Zero-shot encoder | 0.6000 | 0.3000 | 0.9000 | 0.6000 | 3 | 1 | n/a |',
        `| W/O (labeled pairs only) | 0.5167 | 0.2583 | 0.9000 | 0.5167 | 3 | 2 | ${ci(1.7 / 3, 1.4 / 3)} |`,
        `| InPars-style | 0.5167 | 0.2583 | 0.9000 | 0.5167 | 3 | 2 | ${ci(0.5, 1.6 / 3)} |`,
        `| SPTAR | 0.6500 | 0.3250 | 0.9000 | 0.6500 | 3 | 2 | ${ci(0.6, 0.7)} |`,
        `| W/O (labeled pairs only) + BM25 hybrid | 0.6500 | 0.3250 | 0.9000 | 0.6500 | 3 | 2 | ${ci(1.9 / 3, 2 / 3)} |`,
        `| InPars-style + BM25 hybrid | 0.5667 | 0.2833 | 0.9000 | 0.5667 | 3 | 2 | ${ci(0.55, 1.75 / 3)} |`,
        `| SPTAR + BM25 hybrid | 0.7083 | 0.3542 | 0.9000 | 0.7083 | 3 | 2 | ${ci(2.05 / 3, 2.2 / 3)} |`,
      ].join('\n'),
    );
    // Spelled out once: 0.65 -+ 12.7062 * 0.05.
    has('| SPTAR | 0.6500 | 0.3250 | 0.9000 | 0.6500 | 3 | 2 | [0.0147, 1.2853] |');
    assert.ok(markdown.includes("the CI is Student's t over the replicates' nDCG@10"));
    assert.ok(markdown.includes('+ BM25 hybrid: BM25\'s test run fused with'));
  });

  it('tests SPTAR on per-query nDCG@10 averaged over the replicates, with a bootstrap CI of every difference', () => {
    // Pooled per query: SPTAR [0.6, 0.6, 0.75], W/O [0.55, 0.4, 0.6], InPars-style (by id) [0.5, 0.6, 0.45].
    has("Per-query nDCG@10 of each trained system is averaged over its 2 training replicates before the tests (BM25 and the zero-shot encoder have one run).");
    assert.match(markdown, /^\| BM25 \| 0\.6500 \| 0\.4000 \| \+0\.2500 \| [01]\.\d{4} \| \d\.\d{4} \|$/m);
    assert.match(markdown, /^\| Zero-shot encoder \| 0\.6500 \| 0\.6000 \| \+0\.0500 \| /m);
    assert.match(markdown, /^\| W\/O \(labeled pairs only\) \| 0\.6500 \| 0\.5167 \| \+0\.1333 \| /m);
    assert.match(markdown, /^\| InPars-style \| 0\.6500 \| 0\.5167 \| \+0\.1333 \| /m);
    // Differences to BM25 are [0.2, 0.2, 0.35]: every resample's mean lies between 0.2 and 0.35.
    const bm25 = /^\| BM25 \| \+0\.2500 \| \[\+(0\.\d{4}), \+(0\.\d{4})\] \|$/m.exec(markdown);
    assert.ok(bm25, markdown);
    assert.ok(Number(bm25[1]) >= 0.2 && Number(bm25[1]) <= 0.25 && Number(bm25[2]) >= 0.25 && Number(bm25[2]) <= 0.35, bm25[0]);
    has('| SPTAR vs | mean difference | 95% CI (paired bootstrap, 10000 resamples) |');
  });

  it('tests SPTAR hybrid against the other hybrids and BM25', () => {
    has('### SPTAR + BM25 hybrid against the other hybrids and BM25');
    has('| SPTAR + BM25 hybrid vs | SPTAR + BM25 hybrid | other | mean difference | p (randomization, 10000 trials) | p (paired t-test) |');
    // Pooled hybrids: SPTAR [0.65, 0.675, 0.8], W/O [0.55, 0.55, 0.85], InPars-style (by id) [0.525, 0.6, 0.575].
    assert.match(markdown, /^\| W\/O \(labeled pairs only\) \+ BM25 hybrid \| 0\.7083 \| 0\.6500 \| \+0\.0583 \| /m);
    assert.match(markdown, /^\| InPars-style \+ BM25 hybrid \| 0\.7083 \| 0\.5667 \| \+0\.1417 \| /m);
    assert.match(markdown, /^\| BM25 \| 0\.7083 \| 0\.4000 \| \+0\.3083 \| /m);
    assert.match(markdown, /^\| InPars-style \+ BM25 hybrid \| \+0\.1417 \| \[\+0\.\d{4}, \+0\.\d{4}\] \|$/m);
  });

  it('lists every trained retriever on its dev queries with bootstrap CIs, the fused weight and score', () => {
    has('| retriever | replicate | seed | dev queries | dev nDCG@10 | 95% CI (bootstrap) | hybrid dense weight | hybrid dev nDCG@10 | hybrid 95% CI |');
    // SPTAR replicate 1 scores every dev query alike: its intervals have no width.
    has('| SPTAR | 1 | 14 | 4 | 0.4100 | [0.4100, 0.4100] | 0.70 | 0.4200 | [0.4200, 0.4200] |');
    const wo = /^\| W\/O \(labeled pairs only\) \| 0 \| 13 \| 4 \| 0\.3500 \| \[(0\.\d{4}), (0\.\d{4})\] \| 0\.50 \| 0\.3800 \| \[0\.\d{4}, 0\.\d{4}\] \|$/m.exec(markdown);
    assert.ok(wo, markdown);
    // Dev scores 0.25, 0.45, 0.3, 0.4: the interval holds the mean and lies within the scores.
    assert.ok(Number(wo[1]) >= 0.25 && Number(wo[1]) < 0.35 && Number(wo[2]) > 0.35 && Number(wo[2]) <= 0.45, wo[0]);
    // Twelve (system, replicate, variant) rows, in test order but for one adjacent swap: rho = 1 - 1/143.
    assert.equal((1 - 1 / 143).toFixed(4), '0.9930');
    has('Dev-test agreement: Spearman ρ = 0.9930 between dev and test nDCG@10 over 12 trained (system, replicate, dense or hybrid) rows with both a dev and a test score.');
  });

  it('shows the weak pairs through the filters after BM25 and the copy rates', () => {
    assert.equal(
      section('## Weak-pair filters after BM25'),
      'Copy filter: keeps a pair whose query has word overlap ≤ 0.8 and verbatim span share ≤ 0.6 with its document. Dense round trip: keeps a pair whose document the starting encoder ranks in the top 100 for its query. Shares are of the BM25-kept pairs.',
    );
    // 150/200 and 120/200; 30/40 and 10/40.
    has('| InPars-style | 40 | 30 (75.0%) | 10 (25.0%) |');
    has('| SPTAR | 200 | 150 (75.0%) | 120 (60.0%) |');
    has('| SPTAR | weak (BM25-kept) | 200 | 80.0% | 40.0% | 20.0% |');
    has('| SPTAR | kept (after every filter) | 120 | 60.0% | 30.0% | 15.0% |');
    has('| SPTAR | labeled (real queries) | 25 | 40.0% | 20.0% | 10.0% |');
    assert.ok(!markdown.includes('| W/O (labeled pairs only) | weak'), 'W/O trains on no weak pairs');
  });

  it('names replicates in the curves and the promoted hybrid replicate with its paired test and reason', () => {
    has('| epoch | W/O (labeled pairs only), replicate 0 | InPars-style, replicate 0 | SPTAR, replicate 0 | W/O (labeled pairs only), replicate 1 | InPars-style, replicate 1 | SPTAR, replicate 1 |');
    has('- candidate: SPTAR + BM25 hybrid (dense weight 0.70; replicate 1, seed 14) of run `scifact-run-1`, dev nDCG@10 0.4200');
    has('- in service before: SPTAR of run `scifact-run-0`, dev nDCG@10 0.3800');
    has('- paired test on 4 dev queries (candidate − in service): mean difference +0.0400, p (randomization) 0.0312');
    has('- decision: **promoted**');
    has('- reason: dev nDCG@10 +0.0400 better, paired p = 0.031 &lt; 0.05');
  });

  it('renders the same sections in the HTML', () => {
    for (const id of ['metrics', 'significance', 'hybrid-significance', 'dev', 'weak-filters', 'copy-rates']) assert.equal((html.match(new RegExp(`<table id="${id}">`, 'g')) ?? []).length, 1, id);
    assert.ok(html.includes('<td class="num">[0.0147, 1.2853]</td>'));
    assert.ok(html.includes('<td class="num">120 (60.0%)</td>'));
    assert.ok(html.includes('reason: dev nDCG@10 +0.0400 better, paired p = 0.031 &lt; 0.05'));
  });
});

describe('writeReport with one replicate and no hybrids', () => {
  it('keeps the metrics and significance tables as they were and adds no seed or hybrid parts', async () => {
    const { store, dir, input } = await reportFixture();
    try {
      const out = await createReportActivities({ store }).writeReport(input);
      const md = new TextDecoder().decode(await store.get(out.markdown));
      assert.equal(
        md.split('## Retrieval quality (test queries)\n\n')[1]!.split('\n\n')[0],
        [
          '| system | nDCG@10 | MAP@100 | Recall@100 | MRR@10 | queries |',
          '|---|---:|---:|---:|---:|---:|',
          '| BM25 | 0.4000 | 0.2000 | 0.9000 | 0.4000 | 3 |',
          '| Zero-shot encoder | 0.6000 | 0.3000 | 0.9000 | 0.6000 | 3 |',
          '| W/O (labeled pairs only) | 0.5667 | 0.2833 | 0.9000 | 0.5667 | 3 |',
          '| InPars-style | 0.5000 | 0.2500 | 0.9000 | 0.5000 | 3 |',
          '| SPTAR | 0.6000 | 0.3000 | 0.9000 | 0.6000 | 3 |',
        ].join('\n'),
      );
      const significance = md.split("## Significance of SPTAR's differences (nDCG@10, paired over 3 test queries)\n\n")[1]!.split('\n\n')[0]!;
      assert.match(significance, /^\| SPTAR vs \| SPTAR \| other \| mean difference \| p \(randomization, 10000 trials\) \| p \(paired t-test\) \|\n/);
      assert.equal(significance.split('\n').length, 6);
      for (const part of [' seeds |', 'averaged over', 'BM25 hybrid', '## Weak-pair filters', 'replicate 0,']) assert.ok(!md.includes(part), part);
      // Old results have no per-query dev scores: the dev table has no CIs, the agreement still ranks the three.
      // Dev 0.35, 0.40, 0.45 against test 0.5667, 0.5, 0.6: rho = 1 - 6 * (1 + 1) / (3 * 8) = 0.5.
      assert.ok(md.includes('| SPTAR | 0 | 13 | 5 | 0.4500 | n/a |\n'));
      assert.ok(md.includes('Dev-test agreement: Spearman ρ = 0.5000 between dev and test nDCG@10 over 3 trained'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
