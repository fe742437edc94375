// An incremental run over a changed dataset, checked on content: which documents are generated again, which
// earlier weak pairs survive the merge and the re-filter, what the run records as done and what it serves. Tiny
// seeded models on a SciFact slice (the judged documents and 30 unjudged ones), real services.
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import { bm25IndexKey, lastSuccessKey, shardDocumentsKey, stageScopes } from '../../common/artifact-keys.ts';
import { parsePipelineConfig, type PipelineConfig } from '../../common/pipeline-config.ts';
import { lastSuccessSchema, type LastSuccess } from '../../common/pipeline-stages.ts';
import { weakPairRowSchema } from '../../common/retriever-types.ts';
import { stageConfigs } from '../../common/stage-configs.ts';
import { TASK_QUEUES } from '../../common/task-queues.ts';
import { createArtifactStore } from '../../lib/artifact-store/index.ts';
import { parseJsonlRows } from '../../lib/beir/jsonl-rows.ts';
import { deserializeBm25Index } from '../../lib/bm25/index.ts';
import { parseDocHashes, shardDocumentIds } from '../../lib/sptar/prepare-stage.ts';
import type { PipelineResult } from '../../workflows/pipeline-workflow.ts';
import { createModelWorker, createOrchestratorWorker } from '../../workers/worker.ts';
import { startWorkers, type LiveWorkers } from '../support/live-workers.ts';
import { recordHistory } from '../support/record-histories.ts';
import { serviceSettings } from '../support/services.ts';
import { TINY_PIPELINE_CONFIG } from '../support/tiny-pipeline-config.ts';

const settings = serviceSettings();
const store = createArtifactStore(settings.store);
const UNJUDGED = 30;

type Row = { _id: string; title: string; text: string };
const text = async (key: string) => new TextDecoder().decode(await store.get(key));
const pairKey = (p: { docId: string; query: string }) => `${p.docId}\u0000${p.query}`;

async function keptRows(ref: { key: string }) {
  return parseJsonlRows(await store.get(ref.key), ref.key, weakPairRowSchema, { error: Error });
}

async function lastSuccess(runName: string): Promise<LastSuccess> {
  return lastSuccessSchema.parse(JSON.parse(await text(lastSuccessKey(runName))));
}

async function generatedIds(result: PipelineResult): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < result.prepared.unlabeled.count; i++) ids.push(...shardDocumentIds(await text(shardDocumentsKey(result.prepared.unlabeled, i))));
  return ids.sort();
}

describe('incremental run over a changed dataset (real services)', () => {
  let live: LiveWorkers;
  let client: Client;
  let dir: string;

  before(async () => {
    live = await startWorkers(async (nc) => [await createOrchestratorWorker(nc, settings), await createModelWorker(nc, settings)]);
    client = live.client;
    // A copy inside the checkout (one of the workers' data roots): every judged document and the first 30 unjudged.
    const scratch = resolve('.state', 'test-data');
    await mkdir(scratch, { recursive: true });
    dir = await mkdtemp(join(scratch, 'incremental-content-'));
    await cp('../shared/data/scifact', dir, { recursive: true });
    const judged = new Set<string>();
    for (const f of ['qrels/train.tsv', 'qrels/test.tsv']) for (const line of (await readFile(join(dir, f), 'utf8')).split('\n').slice(1)) judged.add(line.split('\t')[1] ?? '');
    let unjudged = 0;
    const lines = (await readFile(join(dir, 'corpus.jsonl'), 'utf8')).trimEnd().split('\n').filter((line) => {
      if (judged.has((JSON.parse(line) as Row)._id)) return true;
      return unjudged++ < UNJUDGED;
    });
    await writeFile(join(dir, 'corpus.jsonl'), `${lines.join('\n')}\n`);
  });
  after(async () => {
    await live.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('re-augments exactly the new and changed documents, keeps no stale pair, records and serves what it measured', async () => {
    const runName = `test-incr-content-${Date.now()}`;
    const input = { ...TINY_PIPELINE_CONFIG, runName, mode: 'incremental', dataset: { path: dir }, splits: { ...TINY_PIPELINE_CONFIG.splits, unlabeledLimit: null }, retriever: { ...TINY_PIPELINE_CONFIG.retriever, epochs: 1 } };
    const parsed = parsePipelineConfig(input);
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.message);
    const config: PipelineConfig = parsed.config;
    const run = (n: number) => client.workflow.execute('sptarPipeline', { taskQueue: TASK_QUEUES.orchestrator, workflowId: `${runName}-${n}`, args: [input] }) as Promise<PipelineResult>;

    const first = await run(1);
    assert.equal(first.prepared.counts.unlabeledDocuments, UNJUDGED);
    const before = await lastSuccess(runName);
    const keptBefore = new Map<string, Awaited<ReturnType<typeof keptRows>>>();
    for (const w of first.weakData) keptBefore.set(w.system, await keptRows(w.keptPairs));
    const sptarDocs = [...new Set(keptBefore.get('sptar')!.map((r) => r.docId))].sort();
    assert.ok(sptarDocs.length >= 3, `the first run kept SPTAR pairs for ${sptarDocs.length} documents`);

    // Two documents with kept pairs change, one is removed, two are added.
    const [changedA, changedB, removed] = sptarDocs as [string, string, string];
    const changed = [changedA, changedB];
    const rows = (await readFile(join(dir, 'corpus.jsonl'), 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l) as Row);
    const edited = rows.filter((r) => r._id !== removed).map((r) => (changed.includes(r._id) ? { ...r, text: `${r.text} The revised abstract reports a larger cohort.` } : r));
    const added = ['zz-new-1', 'zz-new-2'];
    edited.push({ _id: added[0]!, title: 'Sleep', text: 'Short sleep duration and insulin resistance in adolescents.' }, { _id: added[1]!, title: 'Diet', text: 'A Mediterranean diet lowers cardiovascular events.' });
    await writeFile(join(dir, 'corpus.jsonl'), `${edited.map((r) => JSON.stringify(r)).join('\n')}\n`);

    const second = await run(2);
    recordHistory('pipeline-incremental-changed-dataset', `${runName}-2`);
    // Generated again: exactly the changed and new documents.
    assert.deepEqual(await generatedIds(second), [...changed, ...added].sort());
    const after_ = await lastSuccess(runName);
    const index = deserializeBm25Index(await store.get(bm25IndexKey(stageScopes.bm25Index(runName, stageConfigs(config).bm25, second.prepared), config.weakFilter.backend)));

    for (const system of ['sptar', 'inpars'] as const) {
      const own = second.weakData.find((w) => w.system === system)!;
      const ownRows = await keptRows(own.keptPairs);
      // This run's pairs are of its own documents only.
      for (const r of ownRows) assert.ok([...changed, ...added].includes(r.docId), `${system}: ${r.docId} was not generated in this run`);
      // What the next run merges: this run's pairs first, then the re-filtered earlier ones.
      const refs = after_.keptPairs.filter((p) => p.system === system).map((p) => p.ref.key);
      assert.equal(refs[0], own.keptPairs.key);
      assert.equal(refs.length, 2, `${system}: this run's and the re-filtered earlier pairs`);
      const refiltered = await keptRows({ key: refs[1]! });
      // Earlier pairs of changed or removed documents are gone, whatever their BM25 rank; the others are the first
      // run's pairs, word for word, kept exactly when the new index still ranks their document in the top k.
      const expected = keptBefore
        .get(system)!
        .filter((r) => !changed.includes(r.docId) && r.docId !== removed)
        .filter((r) => index.search(r.query, config.weakFilter.topK).some((h) => h.id === r.docId));
      assert.deepEqual(refiltered.map(pairKey).sort(), expected.map(pairKey).sort(), `${system}: re-filtered earlier pairs`);
      for (const r of refiltered) assert.ok(!changed.includes(r.docId) && r.docId !== removed, `${system}: stale pair for ${r.docId}`);
    }

    // Recorded as done: the new corpus's unjudged documents with their new content hashes.
    const hashesBefore = parseDocHashes(await text(before.docHashes.key));
    const hashesAfter = parseDocHashes(await text(after_.docHashes.key));
    assert.equal(hashesAfter.has(removed), false);
    for (const id of added) assert.ok(hashesAfter.has(id), `${id} recorded as done`);
    for (const id of changed) assert.notEqual(hashesAfter.get(id), hashesBefore.get(id), `${id}: its new content is recorded`);
    for (const [id, hash] of hashesBefore) if (id !== removed && !changed.includes(id)) assert.equal(hashesAfter.get(id), hash, id);

    // Served: the second run's retriever when the gate promoted it, else still the first run's, unchanged.
    if (second.promotion?.promoted) {
      const served = second.retrievers.find((t) => t.system === second.promotion!.candidate.system && (t.replicate ?? 0) === (second.promotion!.candidate.replicate ?? 0))!;
      assert.equal(after_.promoted?.runId, `${runName}-2`);
      assert.deepEqual(after_.promoted?.encoder, served.encoder);
      assert.ok(await store.stat(served.encoder.key), 'the served encoder is in the store');
    } else {
      assert.deepEqual(after_.promoted, before.promoted);
    }
  });
});
