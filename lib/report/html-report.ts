// The run report as one self-contained HTML file: inline CSS and SVG charts, no scripts, nothing fetched, so it
// opens offline from the artifact store. Every text passes through escapeHtml.
import { escapeHtml as h } from './html-escape.ts';
import {
  agreementNote,
  binLabel,
  COPY_RATE_ROWS,
  fmt4,
  gateEntryLabel,
  interval4,
  METRICS_HYBRID_NOTE,
  METRICS_SEEDS_NOTE,
  missingShardsSentence,
  percent,
  pooledNote,
  pValue,
  seconds,
  share,
  signed4,
  signedInterval4,
  unionEpochs,
  weakFilterSettings,
  weakPhaseNote,
  type RunReport,
} from './run-report.ts';
import { svgBarChart } from './svg-bar-chart.ts';
import { svgLineChart } from './svg-line-chart.ts';

const STYLE = [
  'body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}',
  'table{border-collapse:collapse;margin:0.5em 0 1.5em}',
  'th,td{border:1px solid #ccc;padding:3px 8px;vertical-align:top}',
  'td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}',
  'td.doc{font-size:0.85em;color:#444;max-width:520px}',
  'figure{display:inline-block;margin:0 1em 1em 0}',
  'pre{background:#f6f6f6;padding:0.8em;overflow-x:auto}',
  'code{font-size:0.9em}',
  'p.warning{border-left:4px solid #c60;padding-left:0.6em}',
].join('');

type Cell = string | { readonly num: string } | { readonly html: string; readonly cls?: string };

/** A table: header and rows of cells; plain strings are escaped, `num` cells are right-aligned numbers. */
function table(id: string | null, header: readonly Cell[], rows: readonly (readonly Cell[])[]): string {
  const cell = (tag: 'td' | 'th', c: Cell): string => {
    if (typeof c === 'string') return `<${tag}>${h(c)}</${tag}>`;
    if ('num' in c) return `<${tag} class="num">${h(c.num)}</${tag}>`;
    return `<${tag}${c.cls ? ` class="${c.cls}"` : ''}>${c.html}</${tag}>`;
  };
  const head = `<thead><tr>${header.map((c) => cell('th', c)).join('')}</tr></thead>`;
  const body = `<tbody>${rows.map((r) => `<tr>${r.map((c) => cell('td', c)).join('')}</tr>`).join('')}</tbody>`;
  return `<table${id ? ` id="${id}"` : ''}>${head}${body}</table>`;
}

const figure = (svg: string): string => `<figure class="chart">${svg}</figure>`;

function metricsSection(r: RunReport): string {
  const seeded = r.systems.some((s) => (s.replicates ?? 1) > 1);
  const rows = r.systems.map((s) => [
    s.name,
    ...[s.metrics.ndcg10, s.metrics.map100, s.metrics.recall100, s.metrics.mrr10].map((v) => ({ num: fmt4(v) })),
    { num: String(s.metrics.queries) },
    ...(seeded ? [{ num: String(s.replicates ?? 1) }, { num: interval4(s.ndcg10Ci95) }] : []),
  ]);
  const header: Cell[] = ['system', ...['nDCG@10', 'MAP@100', 'Recall@100', 'MRR@10', 'queries', ...(seeded ? ['seeds', 'nDCG@10 95% CI (t, over seeds)'] : [])].map((num) => ({ num }))];
  const notes = [...(seeded ? [METRICS_SEEDS_NOTE] : []), ...(r.systems.some((s) => s.variant === 'hybrid') ? [METRICS_HYBRID_NOTE] : [])];
  return `<h2>Retrieval quality (test queries)</h2>${table('metrics', header, rows)}${notes.map((n) => `<p>${h(n)}</p>`).join('')}`;
}

type Significance = NonNullable<RunReport['significance']>;

function significanceTables(s: Significance, id: string): string {
  const ci = s.rows.some((x) => x.diffCi95);
  const header: Cell[] = [
    `${s.reference} vs`,
    { num: s.reference },
    { num: 'other' },
    { num: 'mean difference' },
    ...(ci ? [{ num: `95% CI (paired bootstrap${s.resamples ? `, ${s.resamples} resamples` : ''})` }] : []),
    { num: `p (randomization, ${s.trials} trials)` },
    { num: 'p (paired t-test)' },
  ];
  const rows = s.rows.map((x) => [
    x.system,
    { num: fmt4(x.referenceMean) },
    { num: fmt4(x.otherMean) },
    { num: signed4(x.meanDifference) },
    ...(ci ? [{ num: signedInterval4(x.diffCi95) }] : []),
    { num: pValue(x.randomizationP) },
    { num: pValue(x.tTestP) },
  ]);
  return table(id, header, rows);
}

function significanceSection(r: RunReport): string {
  const s = r.significance;
  const hy = r.hybridSignificance;
  const dense = s && s.rows.length > 0 ? s : null;
  const hybrid = hy && hy.rows.length > 0 ? hy : null;
  const first = dense ?? hybrid;
  if (!first) return '';
  const n = first.rows[0]!.queries;
  const out = [`<h2>Significance of ${h(first.reference)}'s differences</h2><p>nDCG@10, paired over ${n} test queries; two-sided tests.</p>`];
  if ((first.replicates ?? 1) > 1) out.push(`<p>${h(pooledNote(first))}</p>`);
  if (dense) out.push(significanceTables(dense, 'significance'));
  if (hybrid) {
    out.push(`<h3>${h(hybrid.reference)} against the other hybrids and BM25</h3>`);
    if (!dense && (hybrid.replicates ?? 1) > 1) out.push(`<p>${h(pooledNote(hybrid))}</p>`);
    out.push(significanceTables(hybrid, 'hybrid-significance'));
  }
  return out.join('');
}

function weakDataSection(r: RunReport): string {
  const w = r.weakData ?? [];
  if (w.length === 0) return '';
  const out = ['<h2>Weak data</h2>'];
  const missing = w.some((s) => s.shardsFailed);
  const headers = ['system', { num: 'generated' }, { num: 'failed' }, { num: 'kept (BM25 filter)' }, { num: 'retention' }, ...(missing ? [{ num: 'shards failed' }, { num: 'documents missing' }] : [])];
  const rows = w.map((s) => [s.name, { num: String(s.generated) }, { num: String(s.failed) }, { num: String(s.kept) }, { num: percent(s.kept, s.generated) }, ...(missing ? [{ num: String(s.shardsFailed?.length ?? 0) }, { num: String(s.documentsMissing ?? 0) }] : [])]);
  out.push(table('weak-data', headers, rows));
  if (missing) out.push(`<p class="warning">${h(missingShardsSentence(w))}</p>`);
  for (const s of w) {
    out.push(`<h3>${h(s.name)}: query length in words</h3>`);
    if (s.lengthBins.length > 0) {
      out.push(figure(svgBarChart(`${s.name}: query length`, 'queries', ['generated', 'kept'], s.lengthBins.map((b) => ({ label: `${binLabel(b)} words`, values: [b.generated, b.kept] })))));
    }
    const stats = [['generated', s.generatedLengths], ['kept', s.keptLengths]] as const;
    out.push(`<ul>${stats.flatMap(([what, l]) => (l ? [`<li>${what}: ${l.count} queries, mean ${l.mean.toFixed(1)}, median ${l.median}, min ${l.min}, max ${l.max} words</li>`] : [])).join('')}</ul>`);
    if (s.samples.length > 0) {
      out.push(`<h3>${h(s.name)}: ${s.samples.length} random kept queries</h3>`);
      out.push(table(null, ['query', { num: 'BM25 rank' }, 'document', 'document text'], s.samples.map((x) => [x.query, { num: String(x.rank) }, { html: `<code>${h(x.docId)}</code>` }, { html: h(x.document), cls: 'doc' }])));
    }
  }
  return out.join('');
}

function weakFilterSection(r: RunReport): string {
  const w = r.weakFilters;
  if (!w || w.rows.length === 0) return '';
  const retention = table(
    'weak-filters',
    ['system', { num: 'BM25 kept' }, { num: 'after copy filter' }, { num: 'after dense round trip' }],
    w.rows.map((x) => [x.name, { num: String(x.bm25Kept) }, { num: `${x.afterCopyFilter} (${share(x.copyFilterShare)})` }, { num: `${x.afterDenseRoundTrip} (${share(x.denseRoundTripShare)})` }]),
  );
  const copy = table(
    'copy-rates',
    ['system', 'queries', { num: 'pairs' }, { num: 'mean word overlap' }, { num: 'mean verbatim span share' }, { num: 'one verbatim span (3+ words)' }],
    w.rows.flatMap((x) =>
      COPY_RATE_ROWS.map(([key, label]) => {
        const c = x.copyRate[key];
        return [x.name, label, { num: String(c.pairs) }, { num: share(c.meanOverlap) }, { num: share(c.meanSpanShare) }, { num: share(c.spanCopyRate) }];
      }),
    ),
  );
  return `<h2>Weak-pair filters after BM25</h2><p>${h(weakFilterSettings(w))}</p>${retention}<h3>Copy rates: how much of each query is copied from its document</h3>${copy}`;
}

function devSection(r: RunReport): string {
  const d = r.dev;
  if (!d || d.rows.length === 0) return '';
  const fused = d.rows.some((x) => x.fusion);
  const header: Cell[] = [
    'retriever',
    ...['replicate', 'seed', 'dev queries', 'dev nDCG@10', '95% CI (bootstrap)', ...(fused ? ['hybrid dense weight', 'hybrid dev nDCG@10', 'hybrid 95% CI'] : [])].map((num) => ({ num })),
  ];
  const rows = d.rows.map((x) => {
    const f = x.fusion;
    const hybrid = fused ? (f ? [f.denseWeight.toFixed(2), fmt4(f.devScore), interval4(f.ci95)] : ['', '', '']) : [];
    return [x.name, ...[String(x.replicate), String(x.seed), String(x.queries), fmt4(x.devScore), interval4(x.ci95), ...hybrid].map((num) => ({ num }))];
  });
  return `<h2>Dev queries</h2>${table('dev', header, rows)}<p>${h(agreementNote(d.agreement))}</p>`;
}

function curvesSection(r: RunReport): string {
  const pt = r.promptTuning;
  const retrievers = r.retrievers ?? [];
  if (!pt && retrievers.length === 0) return '';
  const out = ['<h2>Training curves</h2>'];
  if (pt) {
    out.push(figure(svgLineChart(`Prompt tuning: S_eval loss (best epoch ${pt.bestEpoch})`, 'epoch', 'S_eval loss', [{ name: 'S_eval', points: pt.evalLoss.map((p) => [p.epoch, p.value] as const) }])));
  }
  if (retrievers.length > 0) {
    out.push(figure(svgLineChart('Dense retrievers: dev nDCG@10', 'epoch', 'nDCG@10', retrievers.map((x) => ({ name: x.name, points: x.devScore.map((p) => [p.epoch, p.value] as const) })))));
    const epochs = unionEpochs(retrievers.map((x) => x.devScore));
    const rows = epochs.map((e) => [{ num: String(e) }, ...retrievers.map((x) => ({ num: ((p) => (p ? fmt4(p.value) : ''))(x.devScore.find((q) => q.epoch === e)) }))]);
    out.push(table('retriever-curves', [{ num: 'epoch' }, ...retrievers.map((x) => ({ num: `${x.name} (best epoch ${x.bestEpoch})` }))], rows));
    const note = weakPhaseNote(retrievers);
    if (note) out.push(`<p>${h(note)}</p>`);
  }
  return out.join('');
}

function promotionSection(r: RunReport): string {
  const p = r.promotion;
  if (!p) return '';
  const c = p.candidate;
  const items = [
    `candidate: ${h(gateEntryLabel(c))} of run <code>${h(c.runId)}</code>, dev nDCG@10 ${fmt4(c.devScore)}`,
    p.incumbent ? `in service before: ${h(gateEntryLabel(p.incumbent))} of run <code>${h(p.incumbent.runId)}</code>, dev nDCG@10 ${fmt4(p.incumbent.devScore)}` : 'in service before: none (first run of this run name)',
    ...(p.test ? [`paired test on ${p.test.queries} dev queries (candidate − in service): mean difference ${signed4(p.test.meanDifference)}, p (randomization) ${pValue(p.test.p)}`] : []),
    `decision: <strong>${p.promoted ? 'promoted' : 'not promoted'}</strong>`,
    ...(p.reason ? [`reason: ${h(p.reason)}`] : []),
  ];
  return `<h2>Promotion</h2><ul id="promotion">${items.map((i) => `<li>${i}</li>`).join('')}</ul>`;
}

function costSection(r: RunReport): string {
  const rows = r.stageCosts ?? [];
  if (rows.length === 0) return '';
  const header: Cell[] = ['stage', ...['wall s', 'activity s', 'CPU s', 'attempts', 'failed'].map((num) => ({ num }))];
  const body = rows.map((s) => [s.stage, { num: seconds(s.wallSeconds) }, { num: seconds(s.activitySeconds) }, { num: seconds(s.cpuSeconds) }, { num: String(s.attempts) }, { num: String(s.failedAttempts) }]);
  const chart = svgBarChart('Time per stage', 's', ['wall', 'CPU'], rows.map((s) => ({ label: s.stage, values: [s.wallSeconds, s.cpuSeconds] })));
  return `<h2>Cost per stage</h2><p>Wall: the stage's span in the workflow. Activity: summed activity attempts (parallel ones overlap). CPU: summed process CPU time of the attempts.</p>${table('stage-costs', header, body)}${figure(chart)}`;
}

export function renderHtmlReport(r: RunReport): string {
  const parts = [
    '<!DOCTYPE html>',
    `<html lang="en"><head><meta charset="utf-8"><title>${h(r.title)}</title><style>${STYLE}</style></head><body>`,
    `<h1>${h(r.title)}</h1>`,
    `<p>Dataset: <strong>${h(r.dataset)}</strong>. Code version: <code>${h(r.codeVersion)}</code>.</p>`,
    metricsSection(r),
    significanceSection(r),
    weakDataSection(r),
    weakFilterSection(r),
    curvesSection(r),
    devSection(r),
    promotionSection(r),
    costSection(r),
    '<h2>Data</h2>',
    table('counts', ['what', { num: 'count' }], Object.entries(r.counts).map(([k, v]) => [k, { num: String(v) }])),
    '<h2>Artifacts</h2>',
    table('artifacts', ['key', { num: 'bytes' }, 'sha256'], r.artifacts.map((a) => [{ html: `<code>${h(a.key)}</code>` }, { num: String(a.bytes) }, { html: `<code>${h(a.sha256)}</code>` }])),
    '<h2>Config</h2>',
    `<pre>${h(JSON.stringify(r.config, null, 2))}</pre>`,
    '</body></html>',
    '',
  ];
  return parts.join('\n');
}
