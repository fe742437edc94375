// The CLI's run commands that read progress and reports: following a run to its end (`sptar start`), `sptar status`
// and the report keys `sptar report` exports.
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { PipelineProgress } from '../common/pipeline-stages.ts';
import { createArtifactStore } from '../lib/artifact-store/index.ts';
import type { PipelineResult } from '../workflows/pipeline-workflow.ts';
import { progressView } from './progress-format.ts';
import { ProgressPrinter, type ProgressOutput } from './progress-printer.ts';
import { exportReports, reportDir, type ReportKeys } from './report-export.ts';
import { runSnapshot } from './run-progress.ts';
import { finishedLines, shellArg } from './run-summary.ts';
import type { Settings } from './settings.ts';

/** A problem the user can fix (no report yet, no worker): printed without a stack. */
export class RunCommandError extends Error {}

const POLL_MS = 1000;

export function evaluationLines(evaluations: PipelineProgress['evaluations']): string[] {
  return evaluations.map(
    (e) => `  ${e.system.padEnd(10)} nDCG@10 ${e.metrics.ndcg10.toFixed(4)}  MAP@100 ${e.metrics.map100.toFixed(4)}  R@100 ${e.metrics.recall100.toFixed(4)}  MRR@10 ${e.metrics.mrr10.toFixed(4)}`,
  );
}

const reportKeysOfResult = (r: PipelineResult): ReportKeys => ({ markdown: r.reportKey, ...(r.reportHtmlKey ? { html: r.reportHtmlKey } : {}) });

/**
 * Follows a started run to its end: progress of every stage as it goes, then the metrics, `report.html` and
 * `report.md` written to `reports/<run id>/`, the run's UI page and the commands that follow.
 */
export async function followRun(
  client: Client,
  handle: WorkflowHandle,
  o: { readonly settings: Settings; readonly configPath: string; readonly runName: string; readonly out?: ProgressOutput },
): Promise<void> {
  const printer = new ProgressPrinter(o.out ?? process.stdout);
  // One snapshot at a time; the last one is awaited before the connection closes.
  let inflight: Promise<void> | undefined;
  const timer = setInterval(() => {
    inflight ??= runSnapshot(client, handle.workflowId)
      .then((s) => printer.update(progressView(s)))
      .catch(() => undefined) // the run may not have started its first task yet
      .finally(() => {
        inflight = undefined;
      });
  }, POLL_MS);
  let result: PipelineResult;
  try {
    result = (await handle.result()) as PipelineResult;
  } finally {
    clearInterval(timer);
    await inflight;
    printer.end();
  }
  for (const line of evaluationLines(result.evaluations)) console.log(line);
  const reports = await exportReports(createArtifactStore(o.settings.store), reportKeysOfResult(result), reportDir(handle.workflowId));
  const runId = (await handle.describe()).runId;
  for (const line of finishedLines({ workflowId: handle.workflowId, runId, uiUrl: o.settings.uiUrl, namespace: o.settings.namespace, configPath: o.configPath, runName: o.runName, reports })) {
    console.log(line);
  }
}

/** `sptar status`: the run's state; live progress of a running one (needs a worker), metrics of a finished one. */
export async function printStatus(client: Client, workflowId: string): Promise<void> {
  const handle = client.workflow.getHandle(workflowId);
  const d = await handle.describe();
  console.log(`${workflowId}: ${d.status.name}`);
  if (d.status.name === 'COMPLETED') {
    for (const line of evaluationLines(((await handle.result()) as PipelineResult).evaluations)) console.log(line);
    console.log(`  report: npx sptar report ${shellArg(workflowId)}`);
  } else if (d.status.name === 'RUNNING') {
    const snapshot = await runSnapshot(client, workflowId).catch((err: unknown) => {
      throw new RunCommandError(`${(err as Error).message}: start a worker (npm run worker) to see live progress`);
    });
    for (const line of progressView(snapshot).lines) console.log(line);
    for (const line of evaluationLines(snapshot.progress.evaluations)) console.log(line);
  }
}

/**
 * The report artifacts of a run: from its result when it completed, from its progress query while it runs (the
 * report stage is done before the last one), else the Markdown key its memo names.
 */
export async function reportKeysOf(client: Client, workflowId: string): Promise<ReportKeys> {
  const handle = client.workflow.getHandle(workflowId);
  const d = await handle.describe();
  if (d.status.name === 'COMPLETED') return reportKeysOfResult((await handle.result()) as PipelineResult);
  if (d.status.name === 'RUNNING') {
    const p = await handle.query<PipelineProgress>('progress').catch(() => undefined);
    if (p?.reportKey) return { markdown: p.reportKey, ...(p.reportHtmlKey ? { html: p.reportHtmlKey } : {}) };
  }
  const key = d.memo?.['reportKey'];
  if (typeof key === 'string') return { markdown: key };
  throw new RunCommandError(`run ${workflowId} has no report yet (${d.status.name}); see npx sptar status ${shellArg(workflowId)}`);
}
