import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, mkdir, open, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ArtifactRef } from '../../common/artifact-ref.ts';
import {
  ArtifactWriteError,
  SIDECAR_SUFFIX,
  TEMP_DIR_NAME,
  assertValidKey,
  checksumMismatch,
  checksumNotRecorded,
  hashFile,
  recordedChecksumMismatch,
  sha256Hex,
  toBytes,
  verifyBytes,
  type ArtifactStore,
} from './artifact-store.ts';

/**
 * Artifacts in a local directory: the embedded default for a single machine.
 *
 * Each object `K` has a sidecar `K.sha256` listing the sha256 of the bytes `K` may hold, one per line; a read by key
 * accepts the object only when its hash is listed. A write never changes a file in place: the new bytes go to a
 * temporary file under `.sptar-tmp/` (fsynced), then
 *   1. the sidecar is atomically replaced by one listing the current object's sha256 and the new one,
 *   2. the temporary file is renamed over `K`,
 *   3. the sidecar is atomically replaced by one listing only the new sha256,
 * with the directory fsynced after every rename. A crash or a failed write (full disk, file-size limit) at any point
 * therefore leaves the old object or the new one, each listed in its sidecar; `stat` hashes the object while its
 * sidecar lists two. Writes of one key are serialized within a process; the temporary files of failed writes are
 * removed at once, those of crashed processes by the next write or delete.
 */
export class LocalArtifactStore implements ArtifactStore {
  readonly location: string;
  private readonly root: string;
  private readonly tempDir: string;

  constructor(root: string) {
    this.root = resolve(root);
    this.tempDir = join(this.root, TEMP_DIR_NAME);
    this.location = pathToFileURL(this.root).href;
  }

  private path(key: string): string {
    assertValidKey(key);
    return join(this.root, key);
  }

  async put(key: string, data: Uint8Array | string): Promise<ArtifactRef> {
    const bytes = toBytes(data);
    return this.write(key, async (tmp) => {
      const fh = await open(tmp, 'wx');
      try {
        await fh.writeFile(bytes);
        await fh.sync();
      } finally {
        await fh.close();
      }
      return { sha256: sha256Hex(bytes), bytes: bytes.byteLength };
    });
  }

  async putFile(key: string, path: string): Promise<ArtifactRef> {
    return this.write(key, async (tmp) => {
      await copyFile(path, tmp, constants.COPYFILE_EXCL);
      await syncFile(tmp);
      // The hash of the copy, not of the source: the sidecar vouches for exactly the bytes stored.
      return hashFile(tmp);
    });
  }

  async getFile(key: string | ArtifactRef, path: string): Promise<void> {
    const k = typeof key === 'string' ? key : key.key;
    const source = this.path(k);
    const recorded = typeof key === 'string' ? await readSidecar(source) : [];
    await copyFile(source, path);
    try {
      const actual = await hashFile(path);
      if (typeof key === 'string') await this.verifyRecorded(key, source, recorded, actual);
      else if (actual.sha256 !== key.sha256 || actual.bytes !== key.bytes) throw checksumMismatch(key, actual, this.location);
    } catch (err) {
      await rm(path, { force: true });
      throw err;
    }
  }

  async get(key: string | ArtifactRef): Promise<Uint8Array> {
    if (typeof key !== 'string') return verifyBytes(key, new Uint8Array(await readFile(this.path(key.key))), this.location);
    const path = this.path(key);
    const recorded = await readSidecar(path);
    const data = new Uint8Array(await readFile(path));
    await this.verifyRecorded(key, path, recorded, { sha256: sha256Hex(data), bytes: data.byteLength });
    return data;
  }

  /**
   * Accepts bytes read by key when their hash is listed in the sidecar read before them, or, failing that, in the
   * sidecar read after them: a write that ran meanwhile lists the object's hash in at least one of the two.
   */
  private async verifyRecorded(key: string, path: string, before: readonly string[], actual: { sha256: string; bytes: number }): Promise<void> {
    if (before.includes(actual.sha256)) return;
    const after = await readSidecar(path);
    if (after.includes(actual.sha256)) return;
    const where = `its sidecar ${key}${SIDECAR_SUFFIX}`;
    const recorded = [...new Set([...before, ...after])];
    throw recorded.length === 0 ? checksumNotRecorded(key, this.location, where) : recordedChecksumMismatch(key, this.location, where, recorded, actual);
  }

  async stat(key: string): Promise<ArtifactRef | undefined> {
    const path = this.path(key);
    // The sidecar read again after the object: if a write changed it meanwhile, look again.
    for (let attempt = 0; ; attempt++) {
      const recorded = await readSidecar(path);
      if (recorded.length === 0) return undefined;
      let found: { sha256: string; bytes: number };
      try {
        if (recorded.length === 1) found = { sha256: recorded[0]!, bytes: (await stat(path)).size };
        else {
          // A write was interrupted between its steps: the object holds one of the listed versions (or is corrupt,
          // in which case the last listed hash is returned and a read with this ref fails).
          const actual = await hashFile(path);
          found = { sha256: recorded.includes(actual.sha256) ? actual.sha256 : recorded.at(-1)!, bytes: actual.bytes };
        }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
      if (attempt >= 2 || sameLines(await readSidecar(path), recorded)) return { key, ...found };
    }
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
      for (const e of entries) {
        const p = join(dir, e.name);
        if (e.isDirectory()) {
          if (p !== this.tempDir) await walk(p);
        } else if (!e.name.endsWith(SIDECAR_SUFFIX) && !e.name.endsWith('.tmp')) keys.push(relative(this.root, p));
      }
    };
    await walk(this.root);
    return keys.filter((k) => k.startsWith(prefix)).sort();
  }

  async delete(key: string): Promise<void> {
    const path = this.path(key);
    await serialized(path, async () => {
      // The object first: a crash in between leaves a sidecar without an object, which reads as absent.
      await rm(path, { force: true });
      await rm(`${path}${SIDECAR_SUFFIX}`, { force: true });
      await syncDir(dirname(path));
      await this.removeStaleTemps();
      await removeLegacyTemps(path);
    });
  }

  /**
   * Writes `key` by the sidecar protocol above. `fill` writes and fsyncs the new bytes to the given new file and
   * returns their hash. Any error leaves the key as it was (or already at the new version) and is reported as a
   * retryable ArtifactWriteError.
   */
  private async write(key: string, fill: (tmp: string) => Promise<{ sha256: string; bytes: number }>): Promise<ArtifactRef> {
    const target = this.path(key);
    const dir = dirname(target);
    return serialized(target, async () => {
      const temps: string[] = [];
      const newTemp = (): string => {
        const t = join(this.tempDir, `${process.pid}.${randomBytes(6).toString('hex')}.${basename(target).slice(0, 64)}${TEMP_SUFFIX}`);
        temps.push(t);
        writing.add(t);
        return t;
      };
      try {
        await ensureDir(this.tempDir);
        await this.removeStaleTemps();
        const data = newTemp();
        const written = await fill(data);
        await ensureDir(dir);
        const current = await currentVersion(target);
        const listed = current.sha256 === undefined || current.sha256 === written.sha256 ? [written.sha256] : [current.sha256, written.sha256];
        if (!sameLines(current.recorded, listed)) await writeSidecar(target, listed, newTemp());
        await rename(data, target);
        await syncDir(dir);
        if (listed.length > 1) await writeSidecar(target, [written.sha256], newTemp());
        return { key, ...written };
      } catch (err) {
        throw writeFailure(key, this.location, this.root, err);
      } finally {
        for (const t of temps) {
          writing.delete(t);
          await rm(t, { force: true }).catch(() => undefined);
        }
      }
    });
  }

  /** Removes what writes that did not finish left in the temporary folder: this process's, and dead processes'. */
  private async removeStaleTemps(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.tempDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const name of names) {
      const p = join(this.tempDir, name);
      if (writing.has(p)) continue;
      const pid = Number(/^(\d+)\./.exec(name)?.[1]);
      if (Number.isSafeInteger(pid) && pid !== process.pid && processAlive(pid) && !(await olderThan(p, STALE_TEMP_MS))) continue;
      await rm(p, { recursive: true, force: true });
    }
  }
}

const TEMP_SUFFIX = '.sptar-tmp';
/** A temporary file of a live process that has not changed for this long is a leftover (e.g. its pid was reused). */
const STALE_TEMP_MS = 24 * 3600 * 1000;
const SHA256_LINE = /^[0-9a-f]{64}$/;

/** Temporary files this process is writing right now (under every store root). */
const writing = new Set<string>();
/** The last write or delete of each object path in this process; the next one waits for it. */
const queues = new Map<string, Promise<void>>();

function serialized<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const run = (queues.get(path) ?? Promise.resolve()).then(fn);
  const done = run.then(
    () => undefined,
    () => undefined,
  );
  queues.set(path, done);
  void done.then(() => {
    if (queues.get(path) === done) queues.delete(path);
  });
  return run;
}

/** The sha256 lines of an object's sidecar; none when it is missing or holds no valid line. */
async function readSidecar(path: string): Promise<string[]> {
  try {
    return (await readFile(`${path}${SIDECAR_SUFFIX}`, 'utf8')).split(/\s+/).filter((l) => SHA256_LINE.test(l));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/**
 * The sidecar of the object at `path` and the sha256 of the version the object holds as the sidecar records it;
 * that is undefined when there is no verifiable object (none, no sidecar, or a sidecar listing two versions neither
 * of which the object holds). One listed line is trusted; with two, the object is hashed.
 */
async function currentVersion(path: string): Promise<{ recorded: string[]; sha256: string | undefined }> {
  const recorded = await readSidecar(path);
  if (recorded.length === 0) return { recorded, sha256: undefined };
  try {
    if (recorded.length === 1) {
      await stat(path);
      return { recorded, sha256: recorded[0] };
    }
    const actual = (await hashFile(path)).sha256;
    return { recorded, sha256: recorded.includes(actual) ? actual : undefined };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { recorded, sha256: undefined };
    throw err;
  }
}

const sameLines = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((s, i) => s === b[i]);

/** Atomically replaces the sidecar of `path` by one listing `shas` (written to `tmp`, fsynced, renamed). */
async function writeSidecar(path: string, shas: readonly string[], tmp: string): Promise<void> {
  const fh = await open(tmp, 'wx');
  try {
    await fh.writeFile(`${shas.join('\n')}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, `${path}${SIDECAR_SUFFIX}`);
  await syncDir(dirname(path));
}

async function syncFile(path: string): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** fsync of a directory, so renames and new entries in it survive a power loss (a no-op where unsupported). */
async function syncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch (err) {
    if (!['ENOENT', 'EISDIR', 'EINVAL', 'EPERM', 'ENOTSUP', 'EBADF'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
  } finally {
    await fh?.close();
  }
}

/** Creates `dir` and its missing parents, fsyncing the parent of each directory it creates. */
async function ensureDir(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (first === undefined) return;
  for (let d = dir; dirname(d) !== d; d = dirname(d)) {
    await syncDir(dirname(d));
    if (d === first) break;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function olderThan(path: string, ms: number): Promise<boolean> {
  try {
    return Date.now() - (await stat(path)).mtimeMs > ms;
  } catch {
    return true;
  }
}

/** Temporary files that earlier versions of this store left beside an object (`K.<pid>.<ms>.tmp`). */
async function removeLegacyTemps(path: string): Promise<void> {
  const name = basename(path);
  let names: string[];
  try {
    names = await readdir(dirname(path));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  for (const n of names) {
    if (n.startsWith(`${name}.`) && /^\.\d+\.\d+\.tmp$/.test(n.slice(name.length))) await rm(join(dirname(path), n), { force: true });
  }
}

const SPACE_ERRORS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large for the file system or for the process file-size limit (ulimit -f)',
};

function writeFailure(key: string, location: string, root: string, err: unknown): ArtifactWriteError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const unchanged = 'the key still holds the version it had before, if any';
  if (code !== undefined && code in SPACE_ERRORS) {
    return new ArtifactWriteError(
      `cannot write artifact ${location}/${key}: ${code} (${SPACE_ERRORS[code]}); ${unchanged}. ` +
        `Free space on the file system holding ${root} (or raise the quota or the file-size limit), then resume the run: ` +
        'the failed activity is retried, and a run started again reuses every artifact already stored.',
      { code, cause: err },
    );
  }
  return new ArtifactWriteError(`cannot write artifact ${location}/${key}: ${err instanceof Error ? err.message : String(err)}; ${unchanged}.`, { code, cause: err });
}
