// What the CLI prints about a run that people act on: its UI link and the commands that follow, written so that
// each works when typed in the project folder.
import { displayPath } from './report-export.ts';

/** `arg` as one shell word: unchanged when it is safe, single-quoted otherwise. */
export function shellArg(arg: string): string {
  return /^[A-Za-z0-9._/:=@%+,-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The run's page in the Temporal UI (the latest run of the id when the run id is not known). */
export function runUiUrl(uiUrl: string, namespace: string, workflowId: string, runId?: string): string {
  return `${uiUrl.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}${runId ? `/${encodeURIComponent(runId)}` : ''}`;
}

export interface FinishedRun {
  readonly workflowId: string;
  readonly runId?: string;
  readonly uiUrl: string;
  readonly namespace: string;
  readonly configPath: string;
  readonly runName: string;
  readonly reports: { readonly html?: string; readonly markdown: string };
  readonly cwd?: string;
}

/** The lines `sptar start` ends with: where the reports are, the run's UI page, and what to type next. */
export function finishedLines(r: FinishedRun): string[] {
  const id = shellArg(r.workflowId);
  const next = [
    [`npx sptar status ${id}`, 'metrics of the run'],
    [`npx sptar report ${id} --format md --out -`, 'the Markdown report in the terminal'],
    [`npx sptar schedule create ${shellArg(r.configPath)} --id ${shellArg(`nightly-${r.runName}`)}`, 're-augment nightly as the corpus grows'],
  ];
  const width = Math.max(...next.map(([cmd]) => cmd!.length));
  return [
    `finished ${r.workflowId}`,
    ...(r.reports.html ? [`  HTML report:     ${displayPath(r.reports.html, r.cwd)}`] : []),
    `  Markdown report: ${displayPath(r.reports.markdown, r.cwd)}`,
    `  Temporal UI:     ${runUiUrl(r.uiUrl, r.namespace, r.workflowId, r.runId)}`,
    'next:',
    ...next.map(([cmd, what]) => `  ${cmd!.padEnd(width)}  # ${what}`),
  ];
}
