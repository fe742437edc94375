// The worker refuses config-named files outside its data roots where it opens them: the prepare stage's dataset
// files, the LLM's and the encoder's files. A tiny BEIR folder in a temporary directory stands in for a dataset.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createModelActivities } from '../../../activities/index.ts';
import { createLlmActivities } from '../../../activities/llm-activities.ts';
import { createPrepareActivities, type PrepareInput } from '../../../activities/prepare-activities.ts';
import { ConfigError } from '../../../common/errors.ts';
import { pipelineConfigSchema } from '../../../common/pipeline-config.ts';
import type { PreparedData } from '../../../common/pipeline-stages.ts';
import { stageConfigs, type PrepareConfig } from '../../../common/stage-configs.ts';
import { LocalArtifactStore } from '../../../lib/artifact-store/index.ts';
import { datasetFilesInRoots } from '../../../lib/sptar/prepare-stage.ts';
import { TINY_GENERATION_SHARED } from '../../support/tiny-generation.ts';

const jsonl = (rows: readonly object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
const qrels = (rows: readonly [string, string][]) => ['query-id\tcorpus-id\tscore', ...rows.map(([q, d]) => `${q}\t${d}\t1`)].join('\n') + '\n';

async function writeTinyBeir(path: string): Promise<void> {
  await mkdir(join(path, 'qrels'), { recursive: true });
  const docs = ['protein folding', 'vitamin D and bones', 'short sleep', 'statins', 'basalt lava', 'glacier ice'];
  await writeFile(join(path, 'corpus.jsonl'), jsonl(docs.map((text, i) => ({ _id: `d${i + 1}`, title: '', text }))));
  await writeFile(join(path, 'queries.jsonl'), jsonl(['folding', 'vitamin', 'sleep'].map((text, i) => ({ _id: `q${i + 1}`, text }))));
  await writeFile(join(path, 'qrels', 'train.tsv'), qrels([['q1', 'd1'], ['q2', 'd2']]));
  await writeFile(join(path, 'qrels', 'test.tsv'), qrels([['q3', 'd3']]));
}

const isConfigError = (start: string) => (err: unknown) => {
  assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
  assert.ok(err.message.startsWith(start), err.message);
  assert.match(err.message, /SPTAR_DATA_ROOTS/);
  return true;
};

describe('config paths outside the data roots', () => {
  let dir: string;
  let root: string;
  let outsideDataset: string;
  let store: LocalArtifactStore;
  const run = <I, O>(fn: (input: I) => Promise<O>, input: I) => new MockActivityEnvironment().run(fn, input) as Promise<O>;
  const prepareConfig = (dataset: Record<string, unknown>): PrepareConfig =>
    stageConfigs(pipelineConfigSchema.parse({ dataset, splits: { trainPairs: 1, evalQueries: 1 }, generation: { shardSize: 2 } })).prepare;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sptar-activity-roots-'));
    root = join(dir, 'root');
    outsideDataset = join(dir, 'elsewhere', 'tiny');
    await writeTinyBeir(join(root, 'tiny'));
    await writeTinyBeir(outsideDataset);
    store = new LocalArtifactStore(join(dir, 'store'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('datasetFilesInRoots: the dataset files inside a root; a dataset.path outside every root is a ConfigError', () => {
    const files = datasetFilesInRoots(prepareConfig({ path: join(root, 'tiny') }).dataset, [root]);
    assert.deepEqual(files, {
      corpus: join(root, 'tiny', 'corpus.jsonl'),
      queries: join(root, 'tiny', 'queries.jsonl'),
      trainQrels: join(root, 'tiny', 'qrels', 'train.tsv'),
      testQrels: join(root, 'tiny', 'qrels', 'test.tsv'),
    });
    assert.throws(() => datasetFilesInRoots(prepareConfig({ path: outsideDataset }).dataset, [root]), isConfigError(`dataset.path: ${outsideDataset} is outside the worker's data roots (${root})`));
  });

  it('datasetFilesInRoots: a qrels path leaving dataset.path is refused even in input the schema never saw', () => {
    const dataset = { ...prepareConfig({ path: join(root, 'tiny') }).dataset, trainQrels: '../../../../etc/hostname', onBadRow: 'skip' as const };
    assert.throws(() => datasetFilesInRoots(dataset, ['/']), (err: unknown) => err instanceof ConfigError && /^dataset\.trainQrels: expected a file path relative to dataset\.path/.test(err.message));
  });

  it('prepareData reads a dataset inside the roots and refuses one outside before reading or storing anything', async () => {
    const acts = createPrepareActivities({ store, dataRoots: [root] });
    const inside = await run<PrepareInput, PreparedData>(acts.prepareData, { config: prepareConfig({ path: join(root, 'tiny') }), scope: 'inside' });
    assert.deepEqual([inside.counts.documents, inside.counts.sTrainPairs, inside.counts.sEvalQueries, inside.counts.unlabeledDocuments], [6, 1, 1, 3]);

    const before = await readdir(join(dir, 'store'), { recursive: true });
    await assert.rejects(run(acts.prepareData, { config: prepareConfig({ path: outsideDataset }), scope: 'outside' }), isConfigError(`dataset.path: ${outsideDataset} is outside`));
    assert.deepEqual(await readdir(join(dir, 'store'), { recursive: true }), before);
  });

  it('the LLM activities refuse a tokenizer outside the roots before loading it', async () => {
    const llm = createLlmActivities({ store, dataRoots: [root] });
    await assert.rejects(llm.generatorFor(TINY_GENERATION_SHARED), isConfigError(`llm.tokenizer: ${TINY_GENERATION_SHARED.llm.tokenizer} is outside`));
  });

  it('the model worker refuses an encoder outside the roots before a retriever activity starts', async () => {
    const acts = createModelActivities({ store, dataRoots: [root] });
    const config = stageConfigs(pipelineConfigSchema.parse({ encoder: { kind: 'file', path: '/etc' } })).denseEvaluation;
    const input = { config, scope: 's', prepared: {} as PreparedData, system: 'zero-shot' } as Parameters<typeof acts.evaluateDense>[0];
    await assert.rejects(acts.evaluateDense(input), isConfigError(`encoder.path: /etc is outside the worker's data roots (${root})`));
  });
});
