import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { ArtifactRef } from '../common/artifact-ref.ts';
import { CorruptArtifactError } from '../common/errors.ts';
import type { PipelineConfig } from '../common/pipeline-config.ts';
import type { PreparedData, PromotionDecision, StageTiming, SystemEvaluation, WeakDataSummary } from '../common/pipeline-stages.ts';
import { weakPairRowSchema, type TrainedRetriever, type WeakPairRow } from '../common/retriever-types.ts';
import { BadRowError, readCorpus, RowReader } from '../lib/beir/index.ts';
import { documentPreview } from '../lib/report/document-preview.ts';
import { renderHtmlReport } from '../lib/report/html-report.ts';
import { LengthCounter, wordCount } from '../lib/report/length-histogram.ts';
import { renderMarkdownReport } from '../lib/report/markdown-report.ts';
import { compareAgainst, type PerQueryScores } from '../lib/report/paired-significance.ts';
import { ReservoirSample } from '../lib/report/reservoir-sample.ts';
import type { RunReport, WeakDataSection } from '../lib/report/run-report.ts';
import { summariseStageCosts } from '../lib/report/stage-costs.ts';
import { createPrng } from '../lib/splits/prng.ts';
import { readCostRecords } from './activity-costs.ts';
import type { ArtifactStore } from './artifact-store/index.ts';
import { withLocalCopies } from './local-copies.ts';
import { stageKey, stageScope } from './stage-artifacts.ts';

const SYSTEM_NAMES: Record<SystemEvaluation['system'], string> = {
  bm25: 'BM25',
  'zero-shot': 'Zero-shot encoder',
  wo: 'W/O (labeled pairs only)',
  inpars: 'InPars-style',
  sptar: 'SPTAR',
};

/** Report settings: fixed, so every report of the same run shows the same samples and p-values. */
const SIGNIFICANCE_TRIALS = 10_000;
const SAMPLES_PER_SYSTEM = 20;
const DOCUMENT_PREVIEW_CHARS = 300;
const LENGTH_BIN_WORDS = 2;
const LENGTH_BINS = 12;

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

const perQuerySchema = z.object({ queryIds: z.array(z.string()), metrics: z.object({ 'ndcg@10': z.array(z.number()) }) });
/** The fields of soft-prompt.json the report plots. */
const softPromptCurveSchema = z.object({ bestEpoch: z.number().int(), curve: z.array(z.object({ epoch: z.number(), evalLoss: z.number() })) });

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

function parseArtifact<T>(schema: z.ZodType<T>, ref: ArtifactRef, raw: string, what: string): T {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new CorruptArtifactError(`${ref.key} is not JSON (${err instanceof Error ? err.message : String(err)}); delete it so the stage that writes ${what} runs again`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new CorruptArtifactError(`${ref.key} is not ${what}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

async function perQueryScores(store: ArtifactStore, e: SystemEvaluation): Promise<PerQueryScores> {
  const pq = parseArtifact(perQuerySchema, e.perQuery, text(await store.get(e.perQuery)), 'per-query metrics');
  return { system: SYSTEM_NAMES[e.system], queryIds: pq.queryIds, scores: pq.metrics['ndcg@10'] };
}

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
    if (!parsed.success) throw new BadRowError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    return parsed.data;
  });

/** Lengths of every generated query of a generation run (the shards' queries.jsonl) and of its kept queries, plus a seeded sample of kept pairs. */
async function weakDataStats(store: ArtifactStore, w: WeakDataSummary, seed: number) {
  const generated = new LengthCounter();
  for (const key of (await store.list(`${w.outputPrefix}/shard-`)).filter((k) => k.endsWith('.queries.jsonl'))) {
    text(await store.get(key))
      .split('\n')
      .forEach((line, i) => {
        if (line.trim() === '') return;
        const row = JSON.parse(line) as { text?: unknown };
        if (typeof row.text !== 'string') throw new CorruptArtifactError(`${key}:${i + 1}: a weak query row needs a string "text"; delete the shard output to regenerate it`);
        generated.add(wordCount(row.text));
      });
  }
  const kept = new LengthCounter();
  const sample = new ReservoirSample<WeakPairRow>(SAMPLES_PER_SYSTEM, createPrng(seed, `report/samples/${w.system}`).next);
  await withLocalCopies(store, { kept: w.keptPairs }, async (paths) => {
    for await (const row of keptPairsReader(paths['kept']!)) {
      kept.add(wordCount(row.query));
      sample.add(row);
    }
  });
  return { w, generated, kept, sample: sample.sample };
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

async function weakDataSections(store: ArtifactStore, input: ReportInput): Promise<WeakDataSection[]> {
  const stats = [];
  for (const w of input.weakData ?? []) stats.push(await weakDataStats(store, w, input.config.seed));
  const previews = await documentPreviews(store, input.prepared.corpus, new Set(stats.flatMap((s) => s.sample.map((p) => p.docId))));
  return stats.map(({ w, generated, kept, sample }) => {
    const upTo = Math.max(generated.maxLength, kept.maxLength);
    const keptBins = kept.bins(LENGTH_BIN_WORDS, LENGTH_BINS, upTo);
    return {
      name: SYSTEM_NAMES[w.system],
      generated: w.generated,
      failed: w.failed,
      kept: w.kept,
      lengthBins: generated.bins(LENGTH_BIN_WORDS, LENGTH_BINS, upTo).map((b, i) => ({ ...b, generated: b.count, kept: keptBins[i]?.count ?? 0 })),
      generatedLengths: generated.summary(),
      keptLengths: kept.summary(),
      samples: sample.map((p) => ({ docId: p.docId, query: p.query, rank: p.rank, document: previews.get(p.docId) ?? '(document not in the prepared corpus)' })),
    };
  });
}

/** The report and the run manifest (every artifact with its hash, the config and the code version). */
export function createReportActivities(deps: { store: ArtifactStore }) {
  const { store } = deps;
  return {
    async writeReport(input: ReportInput): Promise<{ location: string; markdown: ArtifactRef; html: ArtifactRef; manifest: ArtifactRef }> {
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

      const sptar = evaluations.find((e) => e.system === 'sptar');
      const others = evaluations.filter((e) => e.system !== 'sptar');
      const significance =
        sptar && others.length > 0
          ? {
              reference: SYSTEM_NAMES.sptar,
              trials: SIGNIFICANCE_TRIALS,
              rows: compareAgainst(await perQueryScores(store, sptar), await Promise.all(others.map((e) => perQueryScores(store, e))), { seed: config.seed, trials: SIGNIFICANCE_TRIALS }),
            }
          : null;

      const record = input.softPromptRecord ?? null;
      const promptCurve = record ? parseArtifact(softPromptCurveSchema, record, text(await store.get(record)), 'a soft-prompt record') : null;

      const timings = input.timings ?? [];
      // This run's attempts only: the first stage starts when the run does.
      const costs = await readCostRecords(store, input.runId, { since: timings[0]?.startedAt });
      for (const problem of costs.problems) console.warn(`report: skipped a cost record: ${problem}`);

      const promotion = input.promotion ?? null;
      const report: RunReport = {
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
        significance,
        weakData: await weakDataSections(store, input),
        promptTuning: promptCurve && { bestEpoch: promptCurve.bestEpoch, evalLoss: promptCurve.curve.map((c) => ({ epoch: c.epoch, value: c.evalLoss })) },
        retrievers: (input.retrievers ?? []).map((r) => ({
          name: SYSTEM_NAMES[r.system],
          bestEpoch: r.bestEpoch,
          bestDevScore: r.bestDevScore,
          devScore: r.curve.map((c) => ({ epoch: c.epoch, value: c.devScore })),
          weakEpochs: r.weakEpochs,
        })),
        stageCosts: timings.length > 0 || costs.records.length > 0 ? summariseStageCosts(costs.records, timings) : [],
        promotion: promotion && {
          promoted: promotion.promoted,
          candidate: { runId: promotion.candidate.runId, name: SYSTEM_NAMES[promotion.candidate.system], devScore: promotion.candidate.devScore },
          incumbent: promotion.incumbent && { runId: promotion.incumbent.runId, name: SYSTEM_NAMES[promotion.incumbent.system], devScore: promotion.incumbent.devScore },
        },
        artifacts: [...artifacts, manifest],
      };
      const markdown = await store.put(stageKey(sc, 'report.md'), renderMarkdownReport(report));
      const html = await store.put(stageKey(sc, 'report.html'), renderHtmlReport(report));
      return { location: store.location, markdown, html, manifest };
    },
  };
}

export type ReportActivities = ReturnType<typeof createReportActivities>;
