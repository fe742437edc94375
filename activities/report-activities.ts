import { readFile } from 'node:fs/promises';
import type { ArtifactRef } from '../common/artifact-ref.ts';
import type { PipelineConfig } from '../common/pipeline-config.ts';
import type { PreparedData, PromotionDecision, StageTiming, SystemEvaluation, WeakDataSummary } from '../common/pipeline-stages.ts';
import type { TrainedRetriever } from '../common/retriever-types.ts';
import { renderMarkdownReport } from '../lib/report/markdown-report.ts';
import type { ArtifactStore } from './artifact-store/index.ts';
import { stageKey, stageScope } from './stage-artifacts.ts';

const SYSTEM_NAMES: Record<SystemEvaluation['system'], string> = {
  bm25: 'BM25',
  'zero-shot': 'Zero-shot encoder',
  wo: 'W/O (labeled pairs only)',
  inpars: 'InPars-style',
  sptar: 'SPTAR',
};

let cachedVersion: string | undefined;
/** Code version for lineage: SPTAR_CODE_VERSION when set (deployments), else the package version. */
export async function codeVersion(): Promise<string> {
  if (cachedVersion) return cachedVersion;
  const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  cachedVersion = process.env['SPTAR_CODE_VERSION'] ?? pkg.version;
  return cachedVersion;
}

export interface ReportInput {
  readonly config: PipelineConfig;
  readonly scope: string;
  readonly runId: string;
  readonly prepared: PreparedData;
  readonly evaluations: readonly SystemEvaluation[];
  /** Every other artifact the run produced, for the manifest. */
  readonly artifacts: readonly ArtifactRef[];
  /** Weak data of each generation run (absent when the run did not augment). */
  readonly weakData?: readonly WeakDataSummary[];
  /** The trained retrievers with their dev curves. */
  readonly retrievers?: readonly TrainedRetriever[];
  readonly promotion?: PromotionDecision | null;
  /** soft-prompt.json of the prompt tuning stage (loss curve, example groups). */
  readonly softPromptRecord?: ArtifactRef | null;
  /** Wall-clock span of each stage. */
  readonly timings?: readonly StageTiming[];
}

/** The report and the run manifest (every artifact with its hash, the config and the code version). */
export function createReportActivities(deps: { store: ArtifactStore }) {
  const { store } = deps;
  return {
    async writeReport(input: ReportInput): Promise<{ location: string; markdown: ArtifactRef; html?: ArtifactRef; manifest: ArtifactRef }> {
      const { config, prepared, evaluations } = input;
      const version = await codeVersion();
      const p = prepared;
      const artifacts = [
        p.corpus, p.queries, p.sTrain, p.sEval, p.testQrels, p.docHashes, ...(p.rejects ? [p.rejects] : []),
        ...evaluations.flatMap((e) => [e.run, e.perQuery]),
        ...input.artifacts,
      ];
      const sc = stageScope(input.scope, 'report', { runId: input.runId }, artifacts);
      const manifest = await store.put(
        stageKey(sc, 'manifest.json'),
        JSON.stringify({ runId: input.runId, codeVersion: version, config, datasetFingerprint: p.datasetFingerprint, artifacts }, null, 2),
      );
      const markdown = renderMarkdownReport({
        title: `SPTAR run ${input.runId}`,
        dataset: config.dataset.name,
        codeVersion: version,
        config,
        counts: {
          documents: p.counts.documents,
          queries: p.counts.queries,
          'S_train pairs': p.counts.sTrainPairs,
          'S_eval queries': p.counts.sEvalQueries,
          'test queries': p.counts.testQueries,
          'D_unlabeled documents': p.counts.unlabeledDocuments,
          'unchanged since the last run (incremental)': p.counts.unchangedSinceLastRun,
          'D_unlabeled shards': p.unlabeled.count,
          'rejected rows': p.counts.rejectedRows,
        },
        systems: evaluations.map((e) => ({ name: SYSTEM_NAMES[e.system], metrics: e.metrics })),
        artifacts: [...artifacts, manifest],
      });
      return { location: store.location, markdown: await store.put(stageKey(sc, 'report.md'), markdown), manifest };
    },
  };
}

export type ReportActivities = ReturnType<typeof createReportActivities>;
