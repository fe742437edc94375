// The run report as Markdown: what ran, on what data, how each system scored, and (when the run produced them)
// significance (pooled over training replicates, dense and hybrid), weak data and its filters, training curves, dev
// scores, promotion and per-stage costs.
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
  pooledNote,
  percent,
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

export type { RunReport } from './run-report.ts';

/** A table cell: no line breaks or pipes, and no raw markup (Markdown viewers render inline HTML). */
function markdownCell(text: string): string {
  return text.replace(/\s+/g, ' ').trim().replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

type Significance = NonNullable<RunReport['significance']>;

/** The p-value table and, when the rows carry them, the bootstrap CIs of the differences. */
function significanceTables(s: Significance, lines: string[]): void {
  lines.push(`| ${s.reference} vs | ${s.reference} | other | mean difference | p (randomization, ${s.trials} trials) | p (paired t-test) |`, '|---|---:|---:|---:|---:|---:|');
  for (const row of s.rows) {
    lines.push(`| ${row.system} | ${fmt4(row.referenceMean)} | ${fmt4(row.otherMean)} | ${signed4(row.meanDifference)} | ${pValue(row.randomizationP)} | ${pValue(row.tTestP)} |`);
  }
  lines.push('');
  if (s.rows.some((row) => row.diffCi95)) {
    lines.push(`| ${s.reference} vs | mean difference | 95% CI (paired bootstrap${s.resamples ? `, ${s.resamples} resamples` : ''}) |`, '|---|---:|---:|');
    for (const row of s.rows) lines.push(`| ${row.system} | ${signed4(row.meanDifference)} | ${signedInterval4(row.diffCi95)} |`);
    lines.push('');
  }
}

function significanceSection(r: RunReport, lines: string[]): void {
  const s = r.significance;
  const hy = r.hybridSignificance;
  const dense = s && s.rows.length > 0 ? s : null;
  const hybrid = hy && hy.rows.length > 0 ? hy : null;
  const first = dense ?? hybrid;
  if (!first) return;
  const n = first.rows[0]!.queries;
  lines.push(`## Significance of ${first.reference}'s differences (nDCG@10, paired over ${n} test queries)`, '');
  if ((first.replicates ?? 1) > 1) lines.push(pooledNote(first), '');
  if (dense) significanceTables(dense, lines);
  if (hybrid) {
    lines.push(`### ${hybrid.reference} against the other hybrids and BM25`, '');
    if (!dense && (hybrid.replicates ?? 1) > 1) lines.push(pooledNote(hybrid), '');
    significanceTables(hybrid, lines);
  }
}

/** With several training replicates the table gains the seed count and a t-CI of nDCG@10 over the replicates. */
function metricsSection(r: RunReport, lines: string[]): void {
  const seeded = r.systems.some((s) => (s.replicates ?? 1) > 1);
  lines.push('## Retrieval quality (test queries)', '');
  lines.push(`| system | nDCG@10 | MAP@100 | Recall@100 | MRR@10 | queries |${seeded ? ' seeds | nDCG@10 95% CI (t, over seeds) |' : ''}`, `|---|---:|---:|---:|---:|---:|${seeded ? '---:|---:|' : ''}`);
  for (const s of r.systems) {
    const m = s.metrics;
    const seeds = seeded ? ` ${s.replicates ?? 1} | ${interval4(s.ndcg10Ci95)} |` : '';
    lines.push(`| ${s.name} | ${fmt4(m.ndcg10)} | ${fmt4(m.map100)} | ${fmt4(m.recall100)} | ${fmt4(m.mrr10)} | ${m.queries} |${seeds}`);
  }
  lines.push('');
  if (seeded) lines.push(METRICS_SEEDS_NOTE, '');
  if (r.systems.some((s) => s.variant === 'hybrid')) lines.push(METRICS_HYBRID_NOTE, '');
}

function weakDataSection(r: RunReport, lines: string[]): void {
  const w = r.weakData ?? [];
  if (w.length === 0) return;
  const missing = w.some((s) => s.shardsFailed);
  lines.push('## Weak data', '', `| system | generated | failed | kept (BM25 filter) | retention |${missing ? ' shards failed | documents missing |' : ''}`, `|---|---:|---:|---:|---:|${missing ? '---:|---:|' : ''}`);
  for (const s of w) lines.push(`| ${s.name} | ${s.generated} | ${s.failed} | ${s.kept} | ${percent(s.kept, s.generated)} |${missing ? ` ${s.shardsFailed?.length ?? 0} | ${s.documentsMissing ?? 0} |` : ''}`);
  lines.push('');
  if (missing) lines.push(missingShardsSentence(w), '');
  for (const s of w) {
    lines.push(`### ${s.name}: query length in words`, '');
    if (s.lengthBins.length > 0) {
      lines.push('| words | generated | kept |', '|---|---:|---:|');
      for (const b of s.lengthBins) lines.push(`| ${binLabel(b)} | ${b.generated} | ${b.kept} |`);
      lines.push('');
    }
    for (const [what, l] of [['generated', s.generatedLengths], ['kept', s.keptLengths]] as const) {
      if (l) lines.push(`- ${what}: ${l.count} queries, mean ${l.mean.toFixed(1)}, median ${l.median}, min ${l.min}, max ${l.max} words`);
    }
    lines.push('');
    if (s.samples.length > 0) {
      lines.push(`### ${s.name}: ${s.samples.length} random kept queries`, '', '| query | BM25 rank | document | document text |', '|---|---:|---|---|');
      for (const x of s.samples) lines.push(`| ${markdownCell(x.query)} | ${x.rank} | \`${markdownCell(x.docId)}\` | ${markdownCell(x.document)} |`);
      lines.push('');
    }
  }
}

function weakFilterSection(r: RunReport, lines: string[]): void {
  const w = r.weakFilters;
  if (!w || w.rows.length === 0) return;
  lines.push('## Weak-pair filters after BM25', '', weakFilterSettings(w), '');
  lines.push('| system | BM25 kept | after copy filter | after dense round trip |', '|---|---:|---:|---:|');
  for (const x of w.rows) lines.push(`| ${x.name} | ${x.bm25Kept} | ${x.afterCopyFilter} (${share(x.copyFilterShare)}) | ${x.afterDenseRoundTrip} (${share(x.denseRoundTripShare)}) |`);
  lines.push('', '### Copy rates: how much of each query is copied from its document', '');
  lines.push('| system | queries | pairs | mean word overlap | mean verbatim span share | one verbatim span (3+ words) |', '|---|---|---:|---:|---:|---:|');
  for (const x of w.rows) {
    for (const [key, label] of COPY_RATE_ROWS) {
      const c = x.copyRate[key];
      lines.push(`| ${x.name} | ${label} | ${c.pairs} | ${share(c.meanOverlap)} | ${share(c.meanSpanShare)} | ${share(c.spanCopyRate)} |`);
    }
  }
  lines.push('');
}

function devSection(r: RunReport, lines: string[]): void {
  const d = r.dev;
  if (!d || d.rows.length === 0) return;
  const fused = d.rows.some((x) => x.fusion);
  lines.push('## Dev queries', '');
  const hybridHeader = fused ? ' hybrid dense weight | hybrid dev nDCG@10 | hybrid 95% CI |' : '';
  lines.push(`| retriever | replicate | seed | dev queries | dev nDCG@10 | 95% CI (bootstrap) |${hybridHeader}`, `|---|---:|---:|---:|---:|---:|${fused ? '---:|---:|---:|' : ''}`);
  for (const x of d.rows) {
    const f = x.fusion;
    const hybrid = fused ? (f ? ` ${f.denseWeight.toFixed(2)} | ${fmt4(f.devScore)} | ${interval4(f.ci95)} |` : ' | | |') : '';
    lines.push(`| ${x.name} | ${x.replicate} | ${x.seed} | ${x.queries} | ${fmt4(x.devScore)} | ${interval4(x.ci95)} |${hybrid}`);
  }
  lines.push('', agreementNote(d.agreement), '');
}

function curvesSection(r: RunReport, lines: string[]): void {
  const pt = r.promptTuning;
  const retrievers = r.retrievers ?? [];
  if (!pt && retrievers.length === 0) return;
  lines.push('## Training curves', '');
  if (pt) {
    lines.push(`### Prompt tuning: S_eval loss per epoch (best epoch ${pt.bestEpoch})`, '', '| epoch | S_eval loss |', '|---:|---:|');
    for (const p of pt.evalLoss) lines.push(`| ${p.epoch} | ${fmt4(p.value)} |`);
    lines.push('');
  }
  if (retrievers.length > 0) {
    lines.push('### Dense retrievers: dev nDCG@10 per epoch', '');
    lines.push(`| epoch | ${retrievers.map((x) => x.name).join(' | ')} |`, `|---:|${retrievers.map(() => '---:|').join('')}`);
    for (const e of unionEpochs(retrievers.map((x) => x.devScore))) {
      lines.push(`| ${e} | ${retrievers.map((x) => { const p = x.devScore.find((q) => q.epoch === e); return p ? fmt4(p.value) : ''; }).join(' | ')} |`);
    }
    lines.push('', `Best epochs: ${retrievers.map((x) => `${x.name} ${x.bestEpoch} (${fmt4(x.bestDevScore)})`).join(', ')}.`, '');
    const note = weakPhaseNote(retrievers);
    if (note) lines.push(note, '');
  }
}

function promotionSection(r: RunReport, lines: string[]): void {
  const p = r.promotion;
  if (!p) return;
  lines.push('## Promotion', '');
  const c = p.candidate;
  lines.push(`- candidate: ${gateEntryLabel(c)} of run \`${c.runId}\`, dev nDCG@10 ${fmt4(c.devScore)}`);
  lines.push(p.incumbent ? `- in service before: ${gateEntryLabel(p.incumbent)} of run \`${p.incumbent.runId}\`, dev nDCG@10 ${fmt4(p.incumbent.devScore)}` : '- in service before: none (first run of this run name)');
  if (p.test) lines.push(`- paired test on ${p.test.queries} dev queries (candidate − in service): mean difference ${signed4(p.test.meanDifference)}, p (randomization) ${pValue(p.test.p)}`);
  lines.push(`- decision: ${p.promoted ? '**promoted**' : p.reason ? '**not promoted**' : '**not promoted** (dev score worse than the one in service)'}`);
  if (p.reason) lines.push(`- reason: ${markdownCell(p.reason)}`);
  lines.push('');
}

function costSection(r: RunReport, lines: string[]): void {
  const rows = r.stageCosts ?? [];
  if (rows.length === 0) return;
  lines.push('## Cost per stage', '', '| stage | wall s | activity s | CPU s | attempts | failed |', '|---|---:|---:|---:|---:|---:|');
  for (const s of rows) lines.push(`| ${s.stage} | ${seconds(s.wallSeconds)} | ${seconds(s.activitySeconds)} | ${seconds(s.cpuSeconds)} | ${s.attempts} | ${s.failedAttempts} |`);
  lines.push('');
}

export function renderMarkdownReport(r: RunReport): string {
  const lines: string[] = [`# ${r.title}`, '', `Dataset: **${r.dataset}**. Code version: \`${r.codeVersion}\`.`, ''];
  metricsSection(r, lines);
  significanceSection(r, lines);
  weakDataSection(r, lines);
  weakFilterSection(r, lines);
  curvesSection(r, lines);
  devSection(r, lines);
  promotionSection(r, lines);
  costSection(r, lines);
  lines.push('## Data', '', '| what | count |', '|---|---:|');
  for (const [k, v] of Object.entries(r.counts)) lines.push(`| ${k} | ${v} |`);
  lines.push('', '## Artifacts', '', '| key | bytes | sha256 |', '|---|---:|---|');
  for (const a of r.artifacts) lines.push(`| \`${a.key}\` | ${a.bytes} | \`${a.sha256.slice(0, 16)}…\` |`);
  lines.push('', '## Config', '', '```json', JSON.stringify(r.config, null, 2), '```', '');
  return lines.join('\n');
}
