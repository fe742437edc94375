// The CLI refuses a bad config before it talks to Temporal: exit code 1, every problem as `path: expected, got`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

const ROOT = new URL('../../..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'sptar-cli-'));

/** Runs `sptar ARGS` against an address nothing listens on: reaching Temporal would fail with a connection error. */
function sptar(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'workers/cli.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1' },
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('sptar start with a bad config', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('lists every problem and exits 1 without starting anything', () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ splits: { trainPairs: 0 }, weakFilter: { topK: 'seventy' }, generaton: {} }));
    const r = sptar('start', file);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.equal(
      r.stderr.trim(),
      [
        `${file}: invalid pipeline config:`,
        'splits.trainPairs: Too small: expected number to be >0 (got 0)',
        'weakFilter.topK: Invalid input: expected number, received string (got "seventy")',
        '(root): Unrecognized key: "generaton"',
      ].join('\n'),
    );
  });

  it('names a file that is not JSON', () => {
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{ "runName": ');
    const r = sptar('start', file);
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`^config file ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not valid JSON: `));
  });

  it('names a file that does not exist', () => {
    const r = sptar('start', join(dir, 'missing.json'));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^cannot read config file .*missing\.json: ENOENT/);
  });
});
