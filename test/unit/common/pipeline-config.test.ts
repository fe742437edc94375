import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isPathInsideFolder, parsePipelineConfig } from '../../../common/pipeline-config.ts';
import { stageConfigs } from '../../../common/stage-configs.ts';
import { TINY_BERT } from '../../../lib/models/tiny-models.ts';
import { denseSettings } from '../../../lib/sptar/dense-evaluation.ts';

describe('pipeline config', () => {
  it('fills the SPTAR defaults from an empty object', () => {
    const r = parsePipelineConfig({});
    assert.ok(r.ok);
    assert.equal(r.config.splits.trainPairs, 50);
    assert.equal(r.config.splits.evalQueries, 100);
    assert.equal(r.config.promptTuning.promptLength, 50);
    assert.equal(r.config.promptTuning.learningRate, 3e-2);
    assert.equal(r.config.promptTuning.patience, 6);
    assert.equal(r.config.promptTuning.initText, 'please generate query for this document');
    assert.equal(r.config.weakFilter.k1, 0.9);
    assert.equal(r.config.weakFilter.b, 0.4);
    assert.equal(r.config.retriever.learningRate, 2e-5);
    assert.equal(r.config.retriever.batchSize, 32);
    assert.deepEqual(r.config.llm, { kind: 'file', path: 'models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf' });
    assert.equal(r.config.dataset.path, 'data/scifact');
  });

  it("runs the encoder in fp32 at inference unless int8 is asked for, and refuses any other precision", () => {
    const r = parsePipelineConfig({});
    assert.ok(r.ok);
    assert.equal(r.config.retriever.inferencePrecision, 'fp32');
    const int8 = parsePipelineConfig({ retriever: { inferencePrecision: 'int8' } });
    assert.ok(int8.ok);
    assert.equal(int8.config.retriever.inferencePrecision, 'int8');
    const bad = parsePipelineConfig({ retriever: { inferencePrecision: 'int4' } });
    assert.ok(!bad.ok);
    assert.match(bad.message, /retriever\.inferencePrecision: .*"int4"/);
  });

  it('reads an older config without the precision as fp32, and its evaluation slice keys as before', () => {
    // A config as written before retriever.inferencePrecision existed (e.g. a recorded workflow input).
    const older = parsePipelineConfig({ runName: 'older', retriever: { epochs: 2, maxSequenceLength: 192 } });
    assert.ok(older.ok);
    assert.equal(older.config.retriever.inferencePrecision, 'fp32');
    const slice = stageConfigs(older.config).denseEvaluation;
    assert.equal(slice.retriever.inferencePrecision, 'fp32');
    const cfg = { ...TINY_BERT, maxPositions: 512 };
    // fp32 settings are exactly the pre-int8 ones; a slice recorded without the field reads the same way.
    assert.deepEqual(denseSettings(slice, cfg, 'digest'), { encoder: 'digest', maxLength: 192, pooling: 'mean-l2' });
    assert.deepEqual(denseSettings({ ...slice, retriever: { maxSequenceLength: 192 } }, cfg, 'digest'), { encoder: 'digest', maxLength: 192, pooling: 'mean-l2' });
    assert.deepEqual(denseSettings({ ...slice, retriever: { maxSequenceLength: 192, inferencePrecision: 'int8' } }, cfg, 'digest'), {
      encoder: 'digest',
      maxLength: 192,
      pooling: 'mean-l2',
      precision: 'int8',
    });
  });

  it('lists every problem as path, expected and got', () => {
    const r = parsePipelineConfig({ splits: { trainPairs: -3 }, weakFilter: { topK: 'ten' }, llm: { kind: 'hub' } });
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(
      r.message,
      [
        'invalid pipeline config:',
        'splits.trainPairs: Too small: expected number to be >0 (got -3)',
        "llm.kind: Invalid discriminator value. Expected 'file' | 'tiny' (got \"hub\")",
        'weakFilter.topK: Invalid input: expected number, received string (got "ten")',
      ].join('\n'),
    );
  });

  it('sorts generation batches by prompt length unless told not to; a config written before the switch gets the default', () => {
    // A generation section as configs and recorded workflow inputs had it before lengthSortedBatches existed.
    const older = parsePipelineConfig({ generation: { shardSize: 50, maxConcurrentShards: 2, batchSize: 8, maxNewTokens: 32, prefixCache: true } });
    assert.ok(older.ok);
    assert.equal(older.config.generation.lengthSortedBatches, true);
    assert.equal(older.config.generation.batchSize, 8);
    const off = parsePipelineConfig({ generation: { lengthSortedBatches: false } });
    assert.ok(off.ok);
    assert.equal(off.config.generation.lengthSortedBatches, false);
    const bad = parsePipelineConfig({ generation: { lengthSortedBatches: 'yes' } });
    assert.equal(bad.ok, false);
    if (!bad.ok) assert.match(bad.message, /^generation\.lengthSortedBatches: Invalid input: expected boolean, received string \(got "yes"\)$/m);
  });

  it('rejects unknown keys instead of ignoring a typo', () => {
    const r = parsePipelineConfig({ splits: { trainPair: 10 } });
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.message, /splits: Unrecognized key: "trainPair"/);
  });
});

describe('pipeline config bounds', () => {
  const refusal = (input: unknown): string => {
    const r = parsePipelineConfig(input);
    assert.equal(r.ok, false, `expected ${JSON.stringify(input)} to be refused`);
    return r.ok ? '' : r.message;
  };

  it('refuses a million example groups, naming the field, the limit and the value', () => {
    assert.equal(refusal({ exampleFilter: { groups: 1e6 } }), 'invalid pipeline config:\nexampleFilter.groups: Too big: expected number to be <=1000 (got 1000000)');
  });

  it('takes every size and count at its upper bound and refuses one more', () => {
    const limits: [string, string, number][] = [
      ['seed', '', 2 ** 32 - 1],
      ['splits', 'trainPairs', 100_000],
      ['splits', 'evalQueries', 100_000],
      ['splits', 'unlabeledLimit', 100_000_000],
      ['promptTuning', 'promptLength', 1024],
      ['promptTuning', 'maxEpochs', 1000],
      ['promptTuning', 'patience', 1000],
      ['promptTuning', 'examplesPerPrompt', 32],
      ['promptTuning', 'maxDocumentWords', 10_000],
      ['promptTuning', 'maxQueryWords', 1000],
      ['promptTuning', 'evalBatchSize', 256],
      ['exampleFilter', 'groups', 1000],
      ['generation', 'shardSize', 1_000_000],
      ['generation', 'maxConcurrentShards', 1000],
      ['generation', 'batchSize', 512],
      ['generation', 'maxNewTokens', 2048],
      ['generation', 'heartbeatTimeoutSeconds', 86_400],
      ['weakFilter', 'topK', 10_000],
      ['weakFilter', 'denseTopK', 1000],
      ['retriever', 'epochs', 1000],
      ['retriever', 'batchSize', 1024],
      ['retriever', 'maxSequenceLength', 8192],
      ['retriever', 'devCorpusSize', 100_000_000],
      ['retriever', 'weakEpochs', 1000],
      ['retriever', 'devCandidates', 1000],
      ['retriever', 'hardNegatives', 8],
      ['retriever', 'negativeDepth', 1000],
      ['retriever', 'seeds', 10],
    ];
    for (const [section, field, max] of limits) {
      const at = (v: number) => (field === '' ? { [section]: v } : { [section]: { [field]: v } });
      const path = field === '' ? section : `${section}.${field}`;
      assert.ok(parsePipelineConfig(at(max)).ok, `${path} = ${max} is taken`);
      assert.equal(refusal(at(max + 1)), `invalid pipeline config:\n${path}: Too big: expected number to be <=${max} (got ${max + 1})`);
    }
  });

  it("bounds the seeds of the pipeline and of tiny models to 32 bits, signed or unsigned", () => {
    assert.ok(parsePipelineConfig({ seed: -(2 ** 31) }).ok);
    assert.match(refusal({ seed: -(2 ** 31) - 1 }), /^seed: Too small: expected number to be >=-2147483648 \(got -2147483649\)$/m);
    assert.match(refusal({ llm: { kind: 'tiny', architecture: 'llama', seed: 2 ** 53 } }), /^llm\.seed: Too big: expected number to be <=4294967295 \(got 9007199254740992\)$/m);
  });

  it('bounds the length of paths and texts', () => {
    assert.match(refusal({ dataset: { path: 'd'.repeat(4097) } }), /^dataset\.path: Too big: expected string to have <=4096 characters \(got "d{56}\.\.\.\)$/m);
    assert.match(refusal({ encoder: { kind: 'file', path: 'm'.repeat(4097) } }), /^encoder\.path: Too big: expected string to have <=4096 characters/m);
    assert.match(refusal({ promptTuning: { initText: 'w '.repeat(5001) } }), /^promptTuning\.initText: Too big: expected string to have <=10000 characters/m);
  });

  it('keeps every shipped config valid', async () => {
    const dir = fileURLToPath(new URL('../../../configs/', import.meta.url));
    const files = (await readdir(dir)).filter((f) => f.endsWith('.json'));
    assert.ok(files.length >= 3);
    for (const f of files) {
      const r = parsePipelineConfig(JSON.parse(await readFile(join(dir, f), 'utf8')));
      assert.ok(r.ok, `${f}: ${r.ok ? '' : r.message}`);
    }
  });
});

describe('qrels paths stay inside dataset.path', () => {
  it('refuses a train qrels path that climbs out of the dataset folder, with the field and the value', () => {
    const r = parsePipelineConfig({ dataset: { trainQrels: '../../../../etc/hostname', onBadRow: 'skip' } });
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(
      r.message,
      'invalid pipeline config:\n' +
        "dataset.trainQrels: expected a file path relative to dataset.path that stays inside it (no absolute path, no '..' above it) (got \"../../../../etc/hostname\")",
    );
  });

  it('refuses absolute test qrels paths and empty ones', () => {
    for (const testQrels of ['/etc/passwd', '\\\\server\\share\\qrels.tsv', 'C:\\qrels\\test.tsv', 'qrels/..', '']) {
      const r = parsePipelineConfig({ dataset: { testQrels } });
      assert.equal(r.ok, false, JSON.stringify(testQrels));
      if (!r.ok) assert.match(r.message, /^dataset\.testQrels: /m);
    }
  });

  it("takes paths whose '..' stays inside the folder", () => {
    const r = parsePipelineConfig({ dataset: { trainQrels: 'qrels/../qrels/./train.tsv', testQrels: 'test.tsv' } });
    assert.ok(r.ok);
    assert.equal(r.config.dataset.trainQrels, 'qrels/../qrels/./train.tsv');
  });

  it('isPathInsideFolder decides on the segments alone', () => {
    const cases: [string, boolean][] = [
      ['qrels/train.tsv', true],
      ['./a', true],
      ['a/b/../../c', true],
      ['..a/b', true],
      ['a/../..', false],
      ['a/b/../../../c', false],
      ['..', false],
      ['.', false],
      ['/abs', false],
      ['a\\..\\..\\b', false],
      ['D:rel', false],
      ['a\0b', false],
    ];
    for (const [path, inside] of cases) assert.equal(isPathInsideFolder(path), inside, JSON.stringify(path));
  });
});
