import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  canonicalJson,
  costKey,
  generationShardKeys,
  mergedKeptPairsKey,
  prepareKeys,
  retrieverKeys,
  runScope,
  shardDocumentsKey,
  stageScope,
  stageScopes,
} from '../../../common/artifact-keys.ts';
import { generationSettings, generationSettingsSchema, shardOrderSettings } from '../../../common/generation-types.ts';
import { pipelineConfigSchema } from '../../../common/pipeline-config.ts';

const ref = (sha: string) => ({ key: 'k', sha256: sha.repeat(64), bytes: 1 });

describe('artifact keys', () => {
  it('canonical JSON sorts keys at every depth and drops undefined', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: undefined } }), '{"a":{"d":[2,{"y":2,"z":1}]},"b":1}');
  });

  it('the same inputs give the same key; any changed input changes it', () => {
    const a = stageScope('scifact', 'prepare', { seed: 13, x: 50 }, [ref('a')]);
    const b = stageScope('scifact', 'prepare', { x: 50, seed: 13 }, [ref('a')]);
    assert.equal(prepareKeys(a).record, prepareKeys(b).record);
    assert.match(prepareKeys(a).record, /^scifact\/prepare\/[0-9a-f]{16}\/prepared\.json$/);
    assert.notEqual(a.inputHash, stageScope('scifact', 'prepare', { seed: 14, x: 50 }, [ref('a')]).inputHash);
    assert.notEqual(a.inputHash, stageScope('scifact', 'prepare', { seed: 13, x: 50 }, [ref('b')]).inputHash);
    assert.notEqual(a.inputHash, stageScope('scifact', 'evaluate', { seed: 13, x: 50 }, [ref('a')]).inputHash);
  });

  it('the input hash is sha256 over stage@version, the canonical slice and the input hashes, one per line', () => {
    const slice = { seed: 13, text: 'é and ünïcode' };
    const expected = createHash('sha256')
      .update(`train-retriever@2\n${canonicalJson(slice)}\n${'a'.repeat(64)}\n${'b'.repeat(64)}`)
      .digest('hex')
      .slice(0, 16);
    assert.equal(stageScope('s', 'train-retriever', slice, [ref('a'), ref('b')]).inputHash, expected);
  });

  it('names shard, generation, kept-pair and checkpoint keys exactly', () => {
    assert.equal(shardDocumentsKey({ prefix: 'r/prepare/h/unlabeled' }, 12), 'r/prepare/h/unlabeled/shard-000012.jsonl');
    const shard = generationShardKeys('r/generate/h/sptar', 3);
    assert.deepEqual(
      [shard.result, shard.partPrefix, shard.part(16), shard.queries, shard.failures, shard.kept(10)],
      [
        'r/generate/h/sptar/shard-000003.result.json',
        'r/generate/h/sptar/shard-000003.part-',
        'r/generate/h/sptar/shard-000003.part-000000016.jsonl',
        'r/generate/h/sptar/shard-000003.queries.jsonl',
        'r/generate/h/sptar/shard-000003.failures.jsonl',
        'r/generate/h/sptar/shard-000003.kept-k10.jsonl',
      ],
    );
    assert.equal(mergedKeptPairsKey('r/generate/h/sptar', 10), 'r/generate/h/sptar/kept-pairs-k10.jsonl');
    const sc = stageScope('r', 'train-retriever', {}, []);
    const keys = retrieverKeys(sc);
    assert.equal(keys.checkpoint('mixed', 2), `r/train-retriever/${sc.inputHash}/checkpoints/epoch-0002.ckpt`);
    assert.equal(keys.checkpoint('weak', 1), `r/train-retriever/${sc.inputHash}/checkpoints-weak/epoch-0001.ckpt`);
    assert.ok(keys.checkpoint('labeled', 1).startsWith(keys.checkpointPrefix('labeled')));
    // Step checkpoints (after 16 steps of epoch 3) sort between the epoch checkpoints around them, so the last key
    // listed is always the latest checkpoint.
    assert.equal(keys.checkpoint('mixed', 3, 16), `r/train-retriever/${sc.inputHash}/checkpoints/epoch-0003-step-00000016.ckpt`);
    const inOrder = [keys.checkpoint('mixed', 1, 16), keys.checkpoint('mixed', 1, 160), keys.checkpoint('mixed', 1), keys.checkpoint('mixed', 2, 16), keys.checkpoint('mixed', 2)];
    assert.deepEqual([...inOrder].reverse().sort(), inOrder);
  });

  it("the training stage's key leaves out the checkpoint cadence, which does not change what is trained", () => {
    const config = pipelineConfigSchema.parse({});
    const prepared = { corpus: ref('c'), queries: ref('q'), sTrain: ref('t'), sEval: ref('e') } as Parameters<typeof stageScopes.trainRetriever>[4];
    const scope = (retriever: Partial<typeof config.retriever>) => stageScopes.trainRetriever('r', { ...config, retriever: { ...config.retriever, ...retriever } }, 'digest', 'sptar', prepared, []).inputHash;
    assert.equal(scope({ checkpointEverySteps: 4 }), scope({ checkpointEverySteps: null }));
    assert.equal(
      scope({}),
      stageScope('r', 'train-retriever', { retriever: { ...config.retriever, checkpointEverySteps: undefined, inferencePrecision: undefined }, seed: config.seed, encoder: 'digest', system: 'sptar' }, [
        ref('c'),
        ref('q'),
        ref('t'),
        ref('e'),
      ]).inputHash,
    );
    assert.notEqual(scope({ batchSize: 16 }), scope({}));
  });

  it("the training stage's key holds the inference precision only when int8: an fp32 key is the key from before the setting", () => {
    const config = pipelineConfigSchema.parse({});
    assert.equal(config.retriever.inferencePrecision, 'fp32');
    const prepared = { corpus: ref('c'), queries: ref('q'), sTrain: ref('t'), sEval: ref('e') } as Parameters<typeof stageScopes.trainRetriever>[4];
    const key = (retriever: typeof config.retriever) => stageScopes.trainRetriever('r', { ...config, retriever }, 'digest', 'sptar', prepared, []).inputHash;
    const { inferencePrecision: _, ...older } = config.retriever;
    assert.equal(key(config.retriever), key(older as typeof config.retriever));
    assert.notEqual(key({ ...config.retriever, inferencePrecision: 'int8' }), key(config.retriever));
  });

  it('scopes a run by name when reusing, by workflow id otherwise; cost keys per attempt and run', () => {
    assert.equal(runScope('scifact', true, 'scifact-1/x'), 'scifact');
    assert.equal(runScope('scifact', false, 'scifact-1/x y'), 'scifact/scifact-1-x-y');
    const record = { activityType: 'generateShard', workflowId: 'p1/generate-sptar/shard-3', activityId: '7', attempt: 2 };
    assert.equal(costKey(record, 'run:1'), 'costs/p1/generateShard-p1-generate-sptar-shard-3-7-attempt-2-run-run-1.json');
  });

  it('a generation stage scope changes with its settings and its documents', () => {
    const config = pipelineConfigSchema.parse({});
    const unlabeled = { prefix: 'r/prepare/h/unlabeled', count: 2, documents: 500 };
    const sptar = stageScopes.generate('r', 'sptar', generationSettings(config, null, 'inpars'), unlabeled);
    assert.equal(sptar.stage, 'generate');
    assert.notEqual(sptar.inputHash, stageScopes.generate('r', 'inpars', generationSettings(config, null, 'inpars'), unlabeled).inputHash);
    assert.notEqual(sptar.inputHash, stageScopes.generate('r', 'sptar', generationSettings({ ...config, generation: { ...config.generation, maxNewTokens: 9 } }, null, 'inpars'), unlabeled).inputHash);
    assert.notEqual(sptar.inputHash, stageScopes.generate('r', 'sptar', generationSettings(config, null, 'inpars'), { ...unlabeled, documents: 501 }).inputHash);
  });

  it('a generation stage in shard order never shares its key (and so its checkpoint parts) with a length-sorted one', () => {
    const config = pipelineConfigSchema.parse({});
    const unlabeled = { prefix: 'r/prepare/h/unlabeled', count: 2, documents: 500 };
    const sorted = generationSettings(config, null, 'inpars');
    assert.equal(sorted.lengthSortedBatches, true);
    const unsorted = generationSettings({ ...config, generation: { ...config.generation, lengthSortedBatches: false } }, null, 'inpars');
    // Executions started before the switch: the settings as they were, without the field.
    const before = shardOrderSettings(sorted);
    assert.equal('lengthSortedBatches' in before, false);
    assert.deepEqual({ ...before, lengthSortedBatches: true }, sorted);
    assert.ok(generationSettingsSchema.safeParse(before).success, 'settings recorded before the switch still parse');
    const hashes = [sorted, unsorted, before].map((s) => stageScopes.generate('r', 'sptar', s, unlabeled).inputHash);
    assert.equal(new Set(hashes).size, 3, hashes.join(' '));
    // Without the field the key is the one the code before the switch computed for the same defaults.
    assert.equal(hashes[2], '336b11a6518d2e1a');
  });
});
