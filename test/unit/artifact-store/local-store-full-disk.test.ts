// Real failed writes of the local store: EFBIG from a file-size limit (`ulimit -f` in a child process) and ENOSPC
// on a small tmpfs (mounted in a private user and mount namespace, when the machine allows one). A failed write
// names the key, the store, the errno and the fix, stays retryable, leaves no temporary file and keeps the previous
// version readable and verified; the same write succeeds once the limit is gone.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { NON_RETRYABLE_ERROR_NAMES } from '../../../common/errors.ts';
import { LocalArtifactStore, sha256Hex } from '../../../lib/artifact-store/index.ts';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const child = fileURLToPath(new URL('./store-child.ts', import.meta.url));

type Outcome = { ok: true; value: { key: string; sha256: string; bytes: number } } | { ok: false; name: string; code?: string; message: string };

const quote = (a: string): string => `'${a.replace(/'/g, `'\\''`)}'`;
/** The shell command that runs store-child.ts with these arguments. */
const childCommand = (...args: string[]): string => ['node', '--import', 'tsx', child, ...args].map(quote).join(' ');

/** Runs a bash script (ending in a childCommand) and parses what store-child.ts printed. */
function runChild<T>(script: string): T {
  const r = spawnSync('bash', ['-c', script], { cwd: repoRoot, encoding: 'utf8' });
  assert.equal(r.status, 0, `child failed (${r.status} ${r.signal}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as T;
}

function assertSpaceError(failed: Outcome, code: string, key: string, location: string): void {
  assert.equal(failed.ok, false, 'the write should have failed');
  if (failed.ok) return;
  assert.equal(failed.name, 'ArtifactWriteError');
  assert.equal(failed.code, code);
  assert.ok(!(NON_RETRYABLE_ERROR_NAMES as readonly string[]).includes(failed.name), 'a full disk must stay retryable');
  for (const part of [key, location, code, 'Free space', 'resume the run']) assert.ok(failed.message.includes(part), `'${part}' missing from: ${failed.message}`);
}

const big = 2 * 1024 * 1024;
const bigSha = sha256Hex(Buffer.alloc(big, 'n'));

describe('LocalArtifactStore on a file-size limit (EFBIG)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sptar-efbig-'));
  after(() => rm(dir, { recursive: true, force: true }));
  const store = new LocalArtifactStore(dir);
  // 512 KiB: the 2 MiB writes below fail part-way through their data.
  const limited = (...args: string[]): string => `ulimit -f 512 && exec ${childCommand(...args)}`;
  const unlimited = (...args: string[]): string => `exec ${childCommand(...args)}`;

  it('keeps the previous version of an overwritten key readable and verified, and then overwrites it', async () => {
    const key = 'prompt-tuning/checkpoint.json';
    const previous = await store.put(key, '{"epoch":1}');
    const failed = runChild<Outcome>(limited('put', dir, key, String(big)));
    assertSpaceError(failed, 'EFBIG', key, store.location);

    assert.deepEqual(await readdir(join(dir, '.sptar-tmp')), [], 'temporary files left behind');
    assert.deepEqual((await readdir(join(dir, 'prompt-tuning'))).sort(), ['checkpoint.json', 'checkpoint.json.sha256']);
    assert.equal(new TextDecoder().decode(await store.get(key)), '{"epoch":1}');
    assert.deepEqual(await store.stat(key), previous);
    assert.equal(new TextDecoder().decode(await store.get(previous)), '{"epoch":1}');
    assert.deepEqual(await store.list('prompt-tuning/'), [key]);

    const retried = runChild<Outcome>(unlimited('put', dir, key, String(big)));
    assert.deepEqual(retried, { ok: true, value: { key, sha256: bigSha, bytes: big } });
    assert.equal(sha256Hex(await store.get(key)), bigSha);
    assert.equal((await readFile(join(dir, `${key}.sha256`), 'utf8')).trim(), bigSha);
  });

  it('leaves a key that had no version absent', async () => {
    const key = 'runs/r1/shard-000001.part-000000000.jsonl';
    assertSpaceError(runChild<Outcome>(limited('put', dir, key, String(big))), 'EFBIG', key, store.location);
    assert.equal(await store.stat(key), undefined);
    assert.deepEqual(await store.list('runs/r1/'), []);
    assert.deepEqual(await readdir(join(dir, '.sptar-tmp')), []);
  });

  it('fails a streamed putFile the same way', async () => {
    const key = 'retriever/encoder/model.safetensors';
    const previous = await store.put(key, 'previous weights');
    const source = join(dir, 'source.bin');
    await writeFile(source, Buffer.alloc(big, 'n'));
    assertSpaceError(runChild<Outcome>(limited('put-file', dir, key, source)), 'EFBIG', key, store.location);
    assert.deepEqual(await readdir(join(dir, '.sptar-tmp')), []);
    assert.equal(new TextDecoder().decode(await store.get(key)), 'previous weights');
    assert.deepEqual(await store.stat(key), previous);
    assert.deepEqual(runChild<Outcome>(unlimited('put-file', dir, key, source)), { ok: true, value: { key, sha256: bigSha, bytes: big } });
    assert.equal(sha256Hex(await store.get(key)), bigSha);
  });
});

describe('LocalArtifactStore on a full tmpfs (ENOSPC)', () => {
  const probe = spawnSync('unshare', ['-rm', 'sh', '-c', 'd=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs "$d" && umount "$d"; s=$?; rmdir "$d"; exit $s'], { encoding: 'utf8' });
  const canMount = probe.status === 0;

  it('fails an overwrite with a clear error, keeps the previous version and succeeds once space is freed', { skip: canMount ? false : `cannot mount a tmpfs here (${probe.error?.message ?? probe.stderr.trim()})` }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sptar-enospc-'));
    try {
      const r = runChild<{
        previous: { key: string; sha256: string; bytes: number };
        failed: Outcome;
        temps: string[];
        beside: string[];
        readBack: { ok: boolean; value?: string };
        statAfterFailure: unknown;
        listed: string[];
        retried: Outcome;
        readNew: { ok: boolean; value?: string };
        expectedNew: string;
      }>(`exec unshare -rm sh -c 'mount -t tmpfs -o size=4m tmpfs "$0" && exec "$@"' ${quote(dir)} ${childCommand('full-disk', dir)}`);
      const key = 'runs/r1/last-success.json';
      assertSpaceError(r.failed, 'ENOSPC', key, new LocalArtifactStore(join(dir, 'store')).location);
      assert.deepEqual(r.temps, []);
      assert.deepEqual(r.beside, ['last-success.json', 'last-success.json.sha256']);
      assert.deepEqual(r.readBack, { ok: true, value: '{"version":"previous"}' });
      assert.deepEqual(r.statAfterFailure, r.previous);
      assert.deepEqual(r.listed, [key]);
      assert.deepEqual(r.retried, { ok: true, value: { key, sha256: r.expectedNew, bytes: big } });
      assert.deepEqual(r.readNew, { ok: true, value: r.expectedNew });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
