// Store writes in a process of their own, for tests that need a process limit (`ulimit -f`) or a private mount (a
// small tmpfs). Prints one JSON object with the outcome of every step.
//   put ROOT KEY BYTES         put(KEY, BYTES bytes of 'n')
//   put-file ROOT KEY SOURCE   putFile(KEY, SOURCE)
//   full-disk DIR              on a tmpfs mounted at DIR: an overwrite that runs out of space, then the same write
//                              after space was freed
import { readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LocalArtifactStore, sha256Hex } from '../../../lib/artifact-store/index.ts';

type Outcome = { ok: true; value: unknown } | { ok: false; name: string; code: string | undefined; message: string };

async function outcome(fn: () => Promise<unknown>): Promise<Outcome> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    const e = err as Error & { code?: string };
    return { ok: false, name: e.name, code: e.code, message: e.message };
  }
}

async function fullDisk(dir: string): Promise<Record<string, unknown>> {
  const store = new LocalArtifactStore(join(dir, 'store'));
  const key = 'runs/r1/last-success.json';
  const previous = await store.put(key, '{"version":"previous"}');
  // Leaves well under 1 MiB free on the 4 MiB tmpfs; the new version needs 2 MiB.
  await writeFile(join(dir, 'filler'), Buffer.alloc(3 * 1024 * 1024 + 512 * 1024, 'f'));
  const big = Buffer.alloc(2 * 1024 * 1024, 'n');
  const failed = await outcome(() => store.put(key, big));
  const temps = await readdir(join(dir, 'store', '.sptar-tmp'));
  const beside = (await readdir(join(dir, 'store', 'runs/r1'))).sort();
  const readBack = await outcome(async () => new TextDecoder().decode(await store.get(key)));
  const statAfterFailure = await store.stat(key);
  const listed = await store.list('runs/');
  await rm(join(dir, 'filler'));
  const retried = await outcome(() => store.put(key, big));
  const readNew = await outcome(async () => sha256Hex(await store.get(key)));
  return { previous, failed, temps, beside, readBack, statAfterFailure, listed, retried, readNew, expectedNew: sha256Hex(big) };
}

const [mode, ...args] = process.argv.slice(2);
let result: unknown;
switch (mode) {
  case 'put':
    result = await outcome(() => new LocalArtifactStore(args[0]!).put(args[1]!, Buffer.alloc(Number(args[2]), 'n')));
    break;
  case 'put-file':
    result = await outcome(() => new LocalArtifactStore(args[0]!).putFile(args[1]!, args[2]!));
    break;
  case 'full-disk':
    result = await fullDisk(args[0]!);
    break;
  default:
    throw new Error(`unknown mode ${mode}`);
}
process.stdout.write(`${JSON.stringify(result)}\n`);
