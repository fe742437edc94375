// Unpacks one folder of a zip archive into an empty directory, streaming entry by entry (yauzl reads the central
// directory and each entry's bytes from the file, so memory does not grow with the archive). Entries outside that
// folder (e.g. `__MACOSX/`) are skipped; any entry that could write outside the destination is refused.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, relative, resolve, sep } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import yauzl from 'yauzl';
import { DatasetError } from './dataset-errors.ts';

/** One file written: its path relative to the destination, size and sha256. */
export interface UnpackedFile {
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
}

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFREG = 0o100000;

/** The entry's path below `folder/`, or null for entries elsewhere; throws on names that would escape `dest`. */
function entryTarget(fileName: string, folder: string, dest: string, archive: string): { rel: string; path: string } | null {
  const segments = fileName.split('/');
  // yauzl already refuses absolute names, backslashes and `..`; this guards the rest (`.`, empty segments) and the
  // resolved path itself, so no entry can write outside the destination whatever the name decoding did.
  if (segments[0] !== folder) return null;
  const inner = segments.slice(1);
  if (inner.at(-1) === '') inner.pop(); // a directory entry `folder/sub/`
  if (inner.length === 0) return null;
  if (inner.some((s) => s === '' || s === '.' || s === '..')) throw new DatasetError('unpack', `${archive}: entry '${fileName}' has an unsafe path; nothing of it was written`);
  const root = resolve(dest);
  const path = resolve(root, ...inner);
  if (!path.startsWith(root + sep)) throw new DatasetError('unpack', `${archive}: entry '${fileName}' points outside the destination; nothing of it was written`);
  return { rel: relative(root, path).split(sep).join('/'), path };
}

/** A pass-through stream computing the CRC-32 the zip recorded, the sha256 the marker records, and the size. */
class EntryDigest extends Transform {
  bytes = 0;
  crc = 0;
  private readonly hash = createHash('sha256');
  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null, data?: Buffer) => void): void {
    this.bytes += chunk.length;
    this.crc = crc32(chunk, this.crc);
    this.hash.update(chunk);
    done(null, chunk);
  }
  sha256(): string {
    return this.hash.digest('hex');
  }
}

/** Writes one entry (a file, or a directory entry); null for entries outside the folder and directory entries. */
async function unpackEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, folder: string, dest: string, archiveName: string): Promise<UnpackedFile | null> {
  const target = entryTarget(entry.fileName, folder, dest, archiveName);
  if (!target) return null;
  if (entry.fileName.endsWith('/')) {
    await mkdir(target.path, { recursive: true });
    return null;
  }
  const mode = (entry.externalFileAttributes >>> 16) & S_IFMT;
  if (mode !== 0 && mode !== S_IFREG) {
    const what = mode === S_IFLNK ? 'a symbolic link' : 'not a regular file';
    throw new DatasetError('unpack', `${archiveName}: entry '${entry.fileName}' is ${what}; only regular files are unpacked`);
  }
  if (entry.isEncrypted()) throw new DatasetError('unpack', `${archiveName}: entry '${entry.fileName}' is encrypted`);
  const digest = new EntryDigest();
  try {
    await mkdir(dirname(target.path), { recursive: true });
    // 'wx': a second entry with the same name fails instead of overwriting the first.
    await pipeline(await zip.openReadStreamPromise(entry), digest, createWriteStream(target.path, { flags: 'wx' }));
  } catch (err) {
    throw new DatasetError('unpack', `cannot unpack entry '${entry.fileName}' of ${archiveName}: ${(err as Error).message}`, { cause: err });
  }
  const hex = (crc: number) => (crc >>> 0).toString(16).padStart(8, '0');
  if (digest.bytes !== entry.uncompressedSize || hex(digest.crc) !== hex(entry.crc32)) {
    throw new DatasetError(
      'unpack',
      `${archiveName}: entry '${entry.fileName}' unpacks to ${digest.bytes} bytes with CRC-32 ${hex(digest.crc)}, ` +
        `the archive records ${entry.uncompressedSize} bytes with CRC-32 ${hex(entry.crc32)}: the archive is damaged`,
    );
  }
  return { path: target.rel, bytes: digest.bytes, sha256: digest.sha256() };
}

/**
 * Writes every file under `folder/` of `zipPath` into `dest` (which must exist and be empty), checking each file's
 * CRC-32 and size against the archive. Throws a DatasetError of kind 'unpack' naming the archive and entry on the
 * first problem; what was written so far stays in `dest` for the caller to remove.
 */
export async function unpackZipFolder(zipPath: string, folder: string, dest: string, archiveName: string = zipPath): Promise<UnpackedFile[]> {
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(zipPath, { lazyEntries: true, decodeStrings: true, validateEntrySizes: true, strictFileNames: true });
  } catch (err) {
    throw new DatasetError('unpack', `${archiveName} is not a readable zip archive: ${(err as Error).message}`, { cause: err });
  }
  const files: UnpackedFile[] = [];
  try {
    for await (const entry of zip.eachEntry()) {
      const file = await unpackEntry(zip, entry, folder, dest, archiveName);
      if (file) files.push(file);
    }
  } catch (err) {
    if (err instanceof DatasetError) throw err;
    // yauzl refusing an entry's name (absolute, `..`, backslash) or a damaged central directory; its message names the entry.
    throw new DatasetError('unpack', `cannot unpack ${archiveName}: ${(err as Error).message}`, { cause: err });
  } finally {
    zip.close();
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
