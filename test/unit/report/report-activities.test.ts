import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { createReportActivities, type ReportInput } from '../../../activities/report-activities.ts';
import type { LocalArtifactStore } from '../../../lib/artifact-store/index.ts';
import { reportFixture } from './report-fixture.ts';

describe('writeReport', () => {
  let store: LocalArtifactStore;
  let dir: string;
  let input: ReportInput;
  let markdown: string;
  let html: string;
  let keys: { markdown: string; html: string };

  before(async () => {
    ({ store, dir, input } = await reportFixture());
    const out = await createReportActivities({ store }).writeReport(input);
    markdown = new TextDecoder().decode(await store.get(out.markdown));
    html = new TextDecoder().decode(await store.get(out.html));
    keys = { markdown: out.markdown.key, html: out.html.key };
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const lines = () => markdown.split('\n');
  const has = (line: string) => assert.ok(lines().includes(line), `missing line: ${line}`);

  it('stores Markdown and HTML side by side', () => {
    assert.equal(keys.html, keys.markdown.replace(/report\.md$/, 'report.html'));
    assert.match(html, /^<!DOCTYPE html>/);
  });

  it('keeps the metrics table rows', () => {
    has('| BM25 | 0.4000 | 0.2000 | 0.9000 | 0.4000 | 3 |');
    has('| SPTAR | 0.6000 | 0.3000 | 0.9000 | 0.6000 | 3 |');
  });

  it('tests SPTAR against every other system on aligned per-query nDCG@10', () => {
    // d = [0.1, 0.2, 0.3]: exact randomization p = 2/8, t = 2*sqrt(3) on 2 df gives p = 1 - sqrt(6/7) = 0.0742.
    assert.match(markdown, /^\| BM25 \| 0\.6000 \| 0\.4000 \| \+0\.2000 \| 0\.2[3-6]\d\d \| 0\.0742 \|$/m);
    has('| Zero-shot encoder | 0.6000 | 0.6000 | +0.0000 | 1.0000 | 1.0000 |');
    // InPars is stored in another query order; aligned, d = [0, 0, 0.3]: t = 1, p = 1 - 1/sqrt(3).
    has('| InPars-style | 0.6000 | 0.5000 | +0.1000 | 1.0000 | 0.4226 |');
    has('| SPTAR vs | SPTAR | other | mean difference | p (randomization, 10000 trials) | p (paired t-test) |');
  });

  it('summarises weak data: counts, retention, length bins and escaped samples', () => {
    has('| SPTAR | 5 | 1 | 3 | 60.0% |');
    has('| InPars-style | 2 | 0 | 0 | 0.0% |');
    const bins = markdown.split('### SPTAR: query length in words\n\n')[1]!.split('\n\n')[0];
    assert.equal(bins, ['| words | generated | kept |', '|---|---:|---:|', '| 1–2 | 2 | 1 |', '| 3–4 | 1 | 1 |', '| 5–6 | 1 | 0 |', '| 7–8 | 0 | 0 |', '| 9–10 | 1 | 1 |'].join('\n'));
    has('- generated: 5 queries, mean 4.0, median 3, min 1, max 9 words');
    has('- kept: 3 queries, mean 4.7, median 3, min 2, max 9 words');
    has('| statin cholesterol | 1 | `d2` | Statins lower cholesterol. |');
    has('| is &lt;b&gt;this&lt;/b&gt; escaped | 2 | `d3` | Markup. &lt;script&gt;alert(1)&lt;/script&gt; & "quoted" \\| piped |');
    assert.ok(!markdown.includes('### InPars-style: 0 random'), 'no sample table without kept pairs');
    assert.match(markdown, /### InPars-style: query length in words\n\n\| words \| generated \| kept \|\n\|---\|---:\|---:\|\n\| 1–2 \| 2 \| 0 \|\n/);
  });

  it('shows the prompt-tuning and retriever curves, the promotion and per-stage costs', () => {
    has('### Prompt tuning: S_eval loss per epoch (best epoch 2)');
    has('| 2 | 2.7000 |');
    has('| epoch | W/O (labeled pairs only) | InPars-style | SPTAR |');
    has('| 2 | 0.3400 | 0.4000 | 0.4500 |');
    has('Best epochs: W/O (labeled pairs only) 1 (0.3500), InPars-style 2 (0.4000), SPTAR 2 (0.4500).');
    has('- candidate: SPTAR of run `scifact-run-1`, dev nDCG@10 0.4500');
    has('- in service before: SPTAR of run `scifact-run-0`, dev nDCG@10 0.4100');
    has('- decision: **promoted**');
    const costs = markdown.split('## Cost per stage\n\n')[1]!.split('\n\n')[0];
    assert.equal(
      costs,
      [
        '| stage | wall s | activity s | CPU s | attempts | failed |',
        '|---|---:|---:|---:|---:|---:|',
        '| prepare | 2.0 | 1.5 | 1.2 | 1 | 0 |',
        '| bm25 | 3.0 | 2.0 | 4.0 | 2 | 1 |',
        '| generate-sptar | 4.0 | 2.5 | 3.8 | 2 | 0 |',
        '| report | 0.0 | 0.0 | 0.0 | 0 | 0 |',
      ].join('\n'),
    );
  });

  it('escapes generated text in the HTML and draws the charts', () => {
    assert.ok(!html.includes('<script>'), 'raw markup from the data must not reach the HTML');
    assert.ok(html.includes('Markup. &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quoted&quot; | piped'));
    assert.equal((html.match(/<table id="metrics">/g) ?? []).length, 1);
    assert.equal((html.match(/<tr>/g) ?? []).length > 5, true);
    // Two length histograms, the cost chart, the prompt curve and the retriever curves.
    assert.equal((html.match(/<svg /g) ?? []).length, 5);
    assert.equal((html.match(/<path class="series"/g) ?? []).length, 4);
  });

  it('counts failed shards and their missing documents only when a run went on without some', async () => {
    assert.ok(!markdown.includes('documents missing'), 'no missing columns when every shard finished');
    const [sptar, inpars] = input.weakData!;
    const partial: ReportInput = { ...input, scope: 'partial', runId: 'partial-run', weakData: [{ ...sptar!, shardsFailed: [2, 5], documentsMissing: 17 }, inpars!] };
    const out = await createReportActivities({ store }).writeReport(partial);
    const md = new TextDecoder().decode(await store.get(out.markdown));
    assert.ok(md.includes('| system | generated | failed | kept (BM25 filter) | retention | shards failed | documents missing |\n|---|---:|---:|---:|---:|---:|---:|\n'));
    assert.ok(md.includes('| SPTAR | 5 | 1 | 3 | 60.0% | 2 | 17 |\n| InPars-style | 2 | 0 | 0 | 0.0% | 0 | 0 |\n'));
    assert.ok(md.includes('went on without them (SPTAR: shards 2, 5 (17 documents))'));
    const page = new TextDecoder().decode(await store.get(out.html));
    assert.match(page, /<td>SPTAR<\/td>(<td class="num">[^<]*<\/td>){4}<td class="num">2<\/td><td class="num">17<\/td>/);
    assert.match(page, /<p class="warning">Generation shards failed/);
  });

  it('leaves out what a run did not produce', async () => {
    const bare: ReportInput = { config: input.config, scope: 'bare', runId: 'bare-run', prepared: input.prepared, evaluations: input.evaluations.slice(0, 1), artifacts: [] };
    const out = await createReportActivities({ store }).writeReport(bare);
    const md = new TextDecoder().decode(await store.get(out.markdown));
    for (const section of ['## Significance', '## Weak data', '## Training curves', '## Promotion', '## Cost per stage']) assert.ok(!md.includes(section), section);
    assert.match(md, /\| BM25 \| 0\.4000 \|/);
    const page = new TextDecoder().decode(await store.get(out.html));
    assert.equal((page.match(/<svg /g) ?? []).length, 0);
    assert.match(page, /<table id="metrics"><thead>.*<\/thead><tbody><tr><td>BM25<\/td>/);
  });
});
