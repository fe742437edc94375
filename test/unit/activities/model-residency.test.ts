import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LocalArtifactStore } from '../../../lib/artifact-store/index.ts';
import { releasingFirst } from '../../../activities/index.ts';
import { createLlmActivities } from '../../../activities/llm-activities.ts';
import { TEST_DATA_ROOTS } from '../../support/data-roots.ts';
import { TINY_GENERATION_SHARED } from '../../support/tiny-generation.ts';

const DOCS = [
  { _id: 'a', title: 'Folding', text: 'protein folding in the cell' },
  { _id: 'b', title: '', text: 'vitamin D and bone density in adults' },
];

describe('resident LLM sessions of a model worker', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sptar-residency-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('opening another generator releases the previous one, and releaseModels releases the last; reloading gives the same queries', async () => {
    const llm = createLlmActivities({ store: new LocalArtifactStore(dir), dataRoots: TEST_DATA_ROOTS });
    const first = await llm.generatorFor(TINY_GENERATION_SHARED);
    const before = await first.generate(DOCS);
    assert.equal(before.length, 2);
    assert.ok(before.every((o) => 'query' in o || 'failure' in o));

    // A second stage's writer (other settings): the first writer's sessions are gone.
    const second = await llm.generatorFor({ ...TINY_GENERATION_SHARED, maxNewTokens: 4 });
    await assert.rejects(first.generate(DOCS));
    const secondOut = await second.generate(DOCS);
    assert.equal(secondOut.length, 2);

    await llm.releaseModels();
    await assert.rejects(second.generate(DOCS));

    // The next LLM activity loads again, with the same outputs as before the release.
    const again = await llm.generatorFor(TINY_GENERATION_SHARED);
    assert.deepEqual(await again.generate(DOCS), before);
    await llm.releaseModels();
  });

  it('the same settings reuse the loaded generator', async () => {
    const llm = createLlmActivities({ store: new LocalArtifactStore(dir), dataRoots: TEST_DATA_ROOTS });
    const a = await llm.generatorFor(TINY_GENERATION_SHARED);
    const b = await llm.generatorFor({ ...TINY_GENERATION_SHARED });
    const out = await a.generate(DOCS);
    assert.deepEqual(await b.generate(DOCS), out);
    await llm.releaseModels();
  });

  it('releasingFirst awaits the release before each activity and passes arguments and results through', async () => {
    const events: string[] = [];
    const acts = releasingFirst(
      {
        async train(x: number) {
          events.push(`train ${x}`);
          return x * 2;
        },
        async evaluate(name: string) {
          events.push(`evaluate ${name}`);
          return `${name}!`;
        },
      },
      async () => {
        await new Promise((r) => setTimeout(r, 5));
        events.push('release');
      },
    );
    assert.equal(await acts.train(21), 42);
    assert.equal(await acts.evaluate('sptar'), 'sptar!');
    assert.deepEqual(events, ['release', 'train 21', 'release', 'evaluate sptar']);
  });
});
