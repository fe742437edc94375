// The run report as Markdown: what ran, on what data, how each system scored, and (when the run produced them)
// significance, weak data, training curves, promotion and per-stage costs.
import { binLabel, fmt4, percent, pValue, seconds, signed4, unionEpochs, weakPhaseNote, type RunReport } from './run-report.ts';

export type { RunReport } from './run-report.ts';

/** A table cell: no line breaks or pipes, and no raw markup (Markdown viewers render inline HTML). */
function markdownCell(text: string): string {
  return text.replace(/\s+/g, ' ').trim().replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function significanceSection(r: RunReport, lines: string[]): void {
  const s = r.significance;
  if (!s || s.rows.length === 0) return;
  const n = s.rows[0]!.queries;
  lines.push(`## Significance of ${s.reference}'s differences (nDCG@10, paired over ${n} test queries)`, '');
  lines.push(`| ${s.reference} vs | ${s.reference} | other | mean difference | p (randomization, ${s.trials} trials) | p (paired t-test) |`, '|---|---:|---:|---:|---:|---:|');
  for (const row of s.rows) {
    lines.push(`| ${row.system} | ${fmt4(row.referenceMean)} | ${fmt4(row.otherMean)} | ${signed4(row.meanDifference)} | ${pValue(row.randomizationP)} | ${pValue(row.tTestP)} |`);
  }
  lines.push('');
}

function weakDataSection(r: RunReport, lines: string[]): void {
  const w = r.weakData ?? [];
  if (w.length === 0) return;
  lines.push('## Weak data', '', '| system | generated | failed | kept (BM25 filter) | retention |', '|---|---:|---:|---:|---:|');
  for (const s of w) lines.push(`| ${s.name} | ${s.generated} | ${s.failed} | ${s.kept} | ${percent(s.kept, s.generated)} |`);
  lines.push('');
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
  lines.push(`- candidate: ${c.name} of run \`${c.runId}\`, dev nDCG@10 ${fmt4(c.devScore)}`);
  lines.push(p.incumbent ? `- in service before: ${p.incumbent.name} of run \`${p.incumbent.runId}\`, dev nDCG@10 ${fmt4(p.incumbent.devScore)}` : '- in service before: none (first run of this run name)');
  lines.push(`- decision: ${p.promoted ? '**promoted**' : '**not promoted** (dev score worse than the one in service)'}`, '');
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
  lines.push('## Retrieval quality (test queries)', '');
  lines.push('| system | nDCG@10 | MAP@100 | Recall@100 | MRR@10 | queries |', '|---|---:|---:|---:|---:|---:|');
  for (const s of r.systems) {
    const m = s.metrics;
    lines.push(`| ${s.name} | ${fmt4(m.ndcg10)} | ${fmt4(m.map100)} | ${fmt4(m.recall100)} | ${fmt4(m.mrr10)} | ${m.queries} |`);
  }
  lines.push('');
  significanceSection(r, lines);
  weakDataSection(r, lines);
  curvesSection(r, lines);
  promotionSection(r, lines);
  costSection(r, lines);
  lines.push('## Data', '', '| what | count |', '|---|---:|');
  for (const [k, v] of Object.entries(r.counts)) lines.push(`| ${k} | ${v} |`);
  lines.push('', '## Artifacts', '', '| key | bytes | sha256 |', '|---|---:|---|');
  for (const a of r.artifacts) lines.push(`| \`${a.key}\` | ${a.bytes} | \`${a.sha256.slice(0, 16)}…\` |`);
  lines.push('', '## Config', '', '```json', JSON.stringify(r.config, null, 2), '```', '');
  return lines.join('\n');
}
