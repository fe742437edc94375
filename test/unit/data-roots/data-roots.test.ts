// The worker-side confinement of config-named paths to the data roots: lexical, symlinks inside a root allowed.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '../../../common/errors.ts';
import { isWithinRoot, parseDataRoots, requireModelInDataRoots, resolveInDataRoots } from '../../../lib/data-roots/data-roots.ts';

describe('data roots', () => {
  let dir: string;
  let root: string;
  let outside: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sptar-data-roots-'));
    root = join(dir, 'root');
    outside = join(dir, 'outside');
    await mkdir(join(root, 'data'), { recursive: true });
    await mkdir(join(outside, 'scifact'), { recursive: true });
    await writeFile(join(outside, 'scifact', 'corpus.jsonl'), '');
    // What an operator does to use a dataset kept elsewhere: a link inside the root.
    await symlink(join(outside, 'scifact'), join(root, 'data', 'scifact'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('parses SPTAR_DATA_ROOTS as delimiter-separated folders resolved against the working directory', () => {
    assert.deepEqual(parseDataRoots(undefined, '/srv/sptar'), ['/srv/sptar']);
    assert.deepEqual(parseDataRoots('', '/srv/sptar'), ['/srv/sptar']);
    assert.deepEqual(parseDataRoots('/data:models::/data/', '/srv/sptar'), ['/data', '/srv/sptar/models']);
  });

  it('resolves a relative path against the working directory and keeps it when it lies in a root', () => {
    assert.equal(resolveInDataRoots('dataset.path', 'data/x', [root], root), join(root, 'data', 'x'));
    assert.equal(resolveInDataRoots('dataset.path', '.', [root], root), root);
    assert.equal(resolveInDataRoots('dataset.path', join(outside, 'scifact'), [root, outside], root), join(outside, 'scifact'));
  });

  it('allows a symlink placed inside a root, though it points outside (the check is lexical)', () => {
    assert.equal(resolveInDataRoots('dataset.path', 'data/scifact', [root], root), join(root, 'data', 'scifact'));
  });

  it('refuses a path outside every root with a ConfigError naming the field, the resolved path, the roots and the fix', () => {
    assert.throws(
      () => resolveInDataRoots('dataset.path', '../outside/scifact', [root], root),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(
          err.message,
          `dataset.path: ${join(outside, 'scifact')} is outside the worker's data roots (${root}); move the files under one of them, ` +
            "or add a folder that holds them to SPTAR_DATA_ROOTS (':'-separated) in the environment of every worker that reads them",
        );
        return true;
      },
    );
    assert.throws(() => resolveInDataRoots('dataset.path', '/etc', [root], root), ConfigError);
    assert.throws(() => resolveInDataRoots('dataset.path', 'data/../../outside', [root], root), ConfigError);
  });

  it('does not take a sibling folder that shares the root as a name prefix', () => {
    assert.equal(isWithinRoot('/srv/data-other/x', '/srv/data'), false);
    assert.equal(isWithinRoot('/srv/data/..x', '/srv/data'), true);
    assert.equal(isWithinRoot('/srv/data', '/srv/data'), true);
    assert.equal(isWithinRoot('/srv', '/srv/data'), false);
    assert.throws(() => resolveInDataRoots('dataset.path', `${root}-other`, [root], root), ConfigError);
  });

  it('checks the files of a configured model: file weights, a tiny model tokenizer when one is named', () => {
    assert.doesNotThrow(() => requireModelInDataRoots('llm', { kind: 'file', path: 'models/llm.gguf' }, [root], root));
    assert.throws(() => requireModelInDataRoots('llm', { kind: 'file', path: '/etc/shadow' }, [root], root), /^ConfigError: llm\.path: \/etc\/shadow is outside/);
    assert.throws(
      () => requireModelInDataRoots('encoder', { kind: 'tiny', tokenizer: '../outside/tokenizer.json' }, [root], root),
      (err: unknown) => err instanceof ConfigError && err.message.startsWith(`encoder.tokenizer: ${join(outside, 'tokenizer.json')} is outside`),
    );
    assert.doesNotThrow(() => requireModelInDataRoots('encoder', { kind: 'tiny' }, [root], root));
  });
});
