import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { generationShardKeys, reportKeys, stageScopes } from '../common/artifact-keys.ts';
import type { ArtifactRef } from '../common/artifact-ref.ts';
import { CorruptArtifactError } from '../common/errors.ts';
import type { PipelineConfig } from '../common/pipeline-config.ts';
import type { PreparedData, PromotionDecision, StageTiming, SystemEvaluation, WeakDataSummary } from '../common/pipeline-stages.ts';
import { weakPairRowSchema, type TrainedRetriever, type WeakPairRow } from '../common/retriever-types.ts';
import { describeZodIssues } from '../common/zod-issues.ts';
import type { ArtifactStore } from '../lib/artifact-store/index.ts';
import { withLocalCopies } from '../lib/artifact-store/local-copies.ts';
import { BadRowError, readCorpus, RowReader } from '../lib/beir/index.ts';
import { parseJsonlRows } from '../lib/beir/jsonl-rows.ts';
import { buildRunReport, DOCUMENT_PREVIEW_CHARS, WeakDataTally } from '../lib/report/build-run-report.ts';
import { readCostRecords } from '../lib/report/cost-records.ts';
import { documentPreview } from '../lib/report/document-preview.ts';
import { renderHtmlReport } from '../lib/report/html-report.ts';
import { renderMarkdownReport } from '../lib/report/markdown-report.ts';
import { parseStoredJson } from './stored-results.ts';
import { readPerQueryNdcg } from '../lib/report/per-query-scores.ts';

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

const weakQueryTextSchema = z.object({ text: z.string() });
/** The fields of soft-prompt.json the report plots. */
const softPromptCurveSchema = z.object({ bestEpoch: z.number().int(), curve: z.array(z.object({ epoch: z.number(), evalLoss: z.number() })) });

/** Kept pairs as the BM25 filter writes them, streamed from a local copy. */
const keptPairsReader = (path: string): RowReader<WeakPairRow> =>
  new RowReader(path, (line) => {
    if (line.trim() === '') return undefined;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      throw new BadRowError('not JSON');
    }
    const parsed = weakPairRowSchema.safeParse(json);
    if (!parsed.success) throw new BadRowError(describeZodIssues(parsed.error));
    return parsed.data;
  });

/** Every generated query of a generation stage (each shard's; a failed shard has none) and every kept pair, tallied. */
async function tallyWeakData(store: ArtifactStore, w: WeakDataSummary, shards: number, seed: number): Promise<WeakDataTally> {
  const tally = new WeakDataTally(w, seed);
  for (let i = 0; i < shards; i++) {
    const ref = await store.stat(generationShardKeys(w.outputPrefix, i).queries);
    if (!ref) continue;
    for (const row of parseJsonlRows(await store.get(ref), ref.key, weakQueryTextSchema, { error: CorruptArtifactError, expected: 'delete the shard output to regenerate it' })) tally.addGenerated(row.text);
  }
  await withLocalCopies(store, { kept: w.keptPairs }, async (paths) => {
    for await (const row of keptPairsReader(paths['kept']!)) tally.addKept(row);
  });
  return tally;
}

/** The first characters of the sampled documents, in one streaming pass over the corpus. */
async function documentPreviews(store: ArtifactStore, corpus: ArtifactRef, ids: ReadonlySet<string>): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (ids.size === 0) return out;
  await withLocalCopies(store, { corpus }, async (paths) => {
    for await (const doc of readCorpus(paths['corpus']!)) {
      if (ids.has(doc._id)) out.set(doc._id, documentPreview(doc, DOCUMENT_PREVIEW_CHARS));
      if (out.size === ids.size) break;
    }
  });
  return out;
}

/** The report and the run manifest (every artifact with its hash, the config and the code version). */
export function createReportActivities(deps: { store: ArtifactStore }) {
  const { store } = deps;
  return {
    async writeReport(input: ReportInput): Promise<{ location: string; markdown: ArtifactRef; html: ArtifactRef; manifest: ArtifactRef }> {
      const { config, prepared: p, evaluations } = input;
      const version = await codeVersion();
      const artifacts = [
        p.corpus, p.queries, p.sTrain, p.sEval, p.testQrels, p.docHashes, ...(p.rejects ? [p.rejects] : []),
        ...evaluations.flatMap((e) => [e.run, e.perQuery]),
        ...input.artifacts,
      ];
      const keys = reportKeys(stageScopes.report(input.scope, input.runId, artifacts));
      const manifest = await store.put(
        keys.manifest,
        JSON.stringify({ runId: input.runId, codeVersion: version, config, datasetFingerprint: p.datasetFingerprint, artifacts }, null, 2),
      );
      // One per evaluation: with retriever.seeds and retriever.hybrid a system has several (replicates, hybrids).
      const perQuery = await readPerQueryNdcg(store, evaluations);
      const weakData = [];
      for (const w of input.weakData ?? []) weakData.push(await tallyWeakData(store, w, p.unlabeled.count, config.seed));
      const previews = await documentPreviews(store, p.corpus, new Set(weakData.flatMap((t) => t.sample.map((row) => row.docId))));
      const record = input.softPromptRecord ?? null;
      const timings = input.timings ?? [];
      // This run's attempts only: the first stage starts when the run does.
      const costs = await readCostRecords(store, input.runId, { since: timings[0]?.startedAt });
      for (const problem of costs.problems) console.warn(`report: skipped a cost record: ${problem}`);

      const report = buildRunReport({
        runId: input.runId,
        config,
        codeVersion: version,
        prepared: p,
        evaluations,
        perQuery,
        weakData,
        previews,
        promptCurve: record ? parseStoredJson(await store.get(record), record.key, softPromptCurveSchema, 'a soft-prompt record') : null,
        retrievers: input.retrievers ?? [],
        costs: costs.records,
        timings,
        promotion: input.promotion ?? null,
        artifacts: [...artifacts, manifest],
      });
      const markdown = await store.put(keys.markdown, renderMarkdownReport(report));
      const html = await store.put(keys.html, renderHtmlReport(report));
      return { location: store.location, markdown, html, manifest };
    },
  };
}

export type ReportActivities = ReturnType<typeof createReportActivities>;
