// The run report as Markdown: what ran, on what data, and how each system scored.

export interface ReportMetrics {
  readonly ndcg10: number;
  readonly map100: number;
  readonly recall100: number;
  readonly mrr10: number;
  readonly queries: number;
}

export interface ReportInput {
  readonly title: string;
  readonly dataset: string;
  readonly codeVersion: string;
  readonly config: unknown;
  readonly counts: Readonly<Record<string, number>>;
  readonly systems: readonly { readonly name: string; readonly metrics: ReportMetrics }[];
  readonly artifacts: readonly { readonly key: string; readonly sha256: string; readonly bytes: number }[];
}

const fmt = (x: number) => x.toFixed(4);

export function renderMarkdownReport(r: ReportInput): string {
  const lines: string[] = [`# ${r.title}`, '', `Dataset: **${r.dataset}**. Code version: \`${r.codeVersion}\`.`, ''];
  lines.push('## Retrieval quality (test queries)', '');
  lines.push('| system | nDCG@10 | MAP@100 | Recall@100 | MRR@10 | queries |', '|---|---:|---:|---:|---:|---:|');
  for (const s of r.systems) {
    const m = s.metrics;
    lines.push(`| ${s.name} | ${fmt(m.ndcg10)} | ${fmt(m.map100)} | ${fmt(m.recall100)} | ${fmt(m.mrr10)} | ${m.queries} |`);
  }
  lines.push('', '## Data', '', '| what | count |', '|---|---:|');
  for (const [k, v] of Object.entries(r.counts)) lines.push(`| ${k} | ${v} |`);
  lines.push('', '## Artifacts', '', '| key | bytes | sha256 |', '|---|---:|---|');
  for (const a of r.artifacts) lines.push(`| \`${a.key}\` | ${a.bytes} | \`${a.sha256.slice(0, 16)}…\` |`);
  lines.push('', '## Config', '', '```json', JSON.stringify(r.config, null, 2), '```', '');
  return lines.join('\n');
}
