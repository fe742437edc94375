import { copyFile, mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ArtifactRef } from '../../common/artifact-ref.ts';
import { assertValidKey, checksumMismatch, hashFile, sha256Hex, toBytes, verifyBytes, type ArtifactStore } from './artifact-store.ts';

/**
 * Artifacts in a local directory: the embedded default for a single machine. The sha256 of each object sits in a
 * `.sha256` sidecar written before the object is renamed into place, so a crash never leaves an object without it.
 */
export class LocalArtifactStore implements ArtifactStore {
  readonly location: string;
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
    this.location = pathToFileURL(this.root).href;
  }

  private path(key: string): string {
    assertValidKey(key);
    return join(this.root, key);
  }

  async put(key: string, data: Uint8Array | string): Promise<ArtifactRef> {
    const bytes = toBytes(data);
    const path = this.path(key);
    const ref = { key, sha256: sha256Hex(bytes), bytes: bytes.byteLength };
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(`${path}.sha256`, ref.sha256);
    await writeFile(tmp, bytes);
    await rename(tmp, path);
    return ref;
  }

  async putFile(key: string, path: string): Promise<ArtifactRef> {
    const target = this.path(key);
    const ref = { key, ...(await hashFile(path)) };
    await mkdir(dirname(target), { recursive: true });
    const tmp = `${target}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(`${target}.sha256`, ref.sha256);
    await copyFile(path, tmp);
    await rename(tmp, target);
    return ref;
  }

  async getFile(key: string | ArtifactRef, path: string): Promise<void> {
    const k = typeof key === 'string' ? key : key.key;
    await copyFile(this.path(k), path);
    if (typeof key !== 'string') {
      const actual = await hashFile(path);
      if (actual.sha256 !== key.sha256 || actual.bytes !== key.bytes) throw checksumMismatch(key, actual, this.location);
    }
  }

  async get(key: string | ArtifactRef): Promise<Uint8Array> {
    const k = typeof key === 'string' ? key : key.key;
    const data = new Uint8Array(await readFile(this.path(k)));
    return typeof key === 'string' ? data : verifyBytes(key, data, this.location);
  }

  async stat(key: string): Promise<ArtifactRef | undefined> {
    const path = this.path(key);
    try {
      const [info, sha256] = await Promise.all([stat(path), readFile(`${path}.sha256`, 'utf8')]);
      return { key, sha256: sha256.trim(), bytes: info.size };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
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
        if (e.isDirectory()) await walk(p);
        else if (!e.name.endsWith('.sha256') && !e.name.endsWith('.tmp')) keys.push(relative(this.root, p));
      }
    };
    await walk(this.root);
    return keys.filter((k) => k.startsWith(prefix)).sort();
  }

  async delete(key: string): Promise<void> {
    const path = this.path(key);
    await rm(path, { force: true });
    await rm(`${path}.sha256`, { force: true });
  }
}
