// Fetching a known dataset into a folder: download to a temporary file beside it, check the archive against its
// pin, unpack into `<folder>.partial-<random>`, write the marker, and only then rename to `<folder>`. A failure at
// any step removes what that fetch wrote, so a folder at the final path is always complete.
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { downloadArchive, hashArchiveFile, verifyArchive, type ArchiveFacts, type DownloadProgress } from './archive-download.ts';
import { DatasetError } from './dataset-errors.ts';
import { DATASET_MARKER_FILE, datasetFolderState, type DatasetMarker } from './dataset-marker.ts';
import { archiveUrl, formatBytes, type ArchivePin, type DatasetEntry } from './dataset-registry.ts';
import { unpackZipFolder, type UnpackedFile } from './zip-unpack.ts';

/** The facts an archive must match, and who set them ('registry', or the override that replaced the registry's). */
export interface EffectivePin {
  readonly pin: ArchivePin;
  readonly source: string;
}

export interface FetchDatasetOptions {
  /** Base URL the archive is downloaded from (default BEIR's server). */
  readonly baseUrl?: string;
  /** Facts to check the archive against (default the registry's). */
  readonly pin?: EffectivePin;
  /** A local archive (downloaded by hand) to check and unpack instead of downloading. */
  readonly archivePath?: string;
  /** Called once before a download starts (not when the folder is already verified or `archivePath` is given). */
  readonly onDownloadStart?: (url: string, bytes: number) => void;
  readonly onProgress?: (p: DownloadProgress) => void;
  /** Give up a download when no byte arrives for this long. */
  readonly stallTimeoutMs?: number;
}

export interface FetchDatasetResult {
  /** 'present': a verified folder was already there and nothing was downloaded. */
  readonly status: 'present' | 'fetched';
  readonly dir: string;
  readonly marker: DatasetMarker;
}

export const registryPin = (entry: DatasetEntry): EffectivePin => ({ pin: entry.archive.pin, source: 'registry' });

/** What to download and where to put it, for a person doing the fetch by hand. */
function manualSetupText(entry: DatasetEntry, pin: ArchivePin, url: string, target: string): string {
  return (
    `To set up ${entry.name} by hand, download ${url} (${formatBytes(pin.bytes)} bytes, sha256 ${pin.sha256}), ` +
    `unzip it and move its folder ${entry.folder}/ (${entry.files.join(', ')}) to ${target}`
  );
}

function folderError(entry: DatasetEntry, target: string, why: string): DatasetError {
  return new DatasetError(
    'folder',
    `${target} is not a verified copy of ${entry.name}: ${why}. Remove it to fetch ${entry.name} again, or point dataset.path at another folder`,
  );
}

const errorCode = (err: unknown): string | undefined => (err as NodeJS.ErrnoException | null)?.code;

/**
 * Makes `targetDir` a verified copy of `entry`: returns at once when it already is one, otherwise downloads (or
 * takes `archivePath`), verifies and unpacks. Refuses to touch a non-empty folder that a fetch did not make.
 */
export async function ensureDataset(entry: DatasetEntry, targetDir: string, options: FetchDatasetOptions = {}): Promise<FetchDatasetResult> {
  const target = resolve(targetDir);
  const { pin, source: pinSource } = options.pin ?? registryPin(entry);
  const before = await datasetFolderState(entry, target, pin);
  switch (before.state) {
    case 'verified':
      return { status: 'present', dir: target, marker: before.marker };
    case 'unmarked':
      throw folderError(entry, target, `it has no ${DATASET_MARKER_FILE}, so no fetch made it`);
    case 'mismatch':
      throw folderError(entry, target, before.reason);
    case 'missing':
      break;
  }

  const parent = dirname(target);
  await mkdir(parent, { recursive: true });
  const tag = randomBytes(6).toString('hex');
  const partial = join(parent, `${basename(target)}.partial-${tag}`);
  const url = archiveUrl(entry, options.baseUrl);
  let download: string | undefined;
  try {
    let zipPath: string;
    let facts: ArchiveFacts;
    let source: string;
    if (options.archivePath !== undefined) {
      zipPath = resolve(options.archivePath);
      source = zipPath;
      try {
        facts = await hashArchiveFile(zipPath);
      } catch (err) {
        throw new DatasetError('verify', `cannot read the archive ${zipPath}: ${(err as Error).message}`, { cause: err });
      }
      verifyArchive(facts, pin, source);
    } else {
      download = join(parent, `${basename(target)}.download-${tag}.zip`);
      zipPath = download;
      source = url;
      options.onDownloadStart?.(url, pin.bytes);
      try {
        facts = await downloadArchive(url, download, {
          expectedBytes: pin.bytes,
          ...(options.onProgress ? { onProgress: options.onProgress } : {}),
          ...(options.stallTimeoutMs !== undefined ? { stallTimeoutMs: options.stallTimeoutMs } : {}),
        });
        verifyArchive(facts, pin, `the archive downloaded from ${url}`);
      } catch (err) {
        if (!(err instanceof DatasetError)) throw err;
        throw new DatasetError(err.kind, `${err.message}; nothing was unpacked.\n${manualSetupText(entry, pin, url, target)}`, { cause: err });
      }
    }

    await mkdir(partial);
    let files: UnpackedFile[];
    try {
      files = await unpackZipFolder(zipPath, entry.folder, partial, source);
      const unpacked = new Set(files.map((f) => f.path));
      const lacking = entry.files.filter((f) => !unpacked.has(f));
      if (lacking.length) {
        throw new DatasetError('unpack', `${source} has no ${lacking.map((f) => `${entry.folder}/${f}`).join(', ')}: it is not a BEIR copy of ${entry.name}`);
      }
    } catch (err) {
      if (!(err instanceof DatasetError)) throw err;
      throw new DatasetError(err.kind, `${err.message}; ${target} was not created`, { cause: err });
    }
    const marker: DatasetMarker = {
      format: 1,
      name: entry.name,
      archive: { source, bytes: facts.bytes, sha256: facts.sha256, md5: facts.md5, pinSource },
      files,
      unpackedAt: new Date().toISOString(),
    };
    await writeFile(join(partial, DATASET_MARKER_FILE), `${JSON.stringify(marker, null, 2)}\n`, { flag: 'wx' });
    try {
      // rename(2) replaces an empty directory and fails on a non-empty one, so an empty target is fine to take.
      await rename(partial, target);
    } catch (err) {
      if (errorCode(err) !== 'ENOTEMPTY' && errorCode(err) !== 'EEXIST') throw err;
      // Another fetch finished first: its copy is as good as ours if it verifies.
      const now = await datasetFolderState(entry, target, pin);
      if (now.state === 'verified') return { status: 'present', dir: target, marker: now.marker };
      throw folderError(entry, target, now.state === 'mismatch' ? now.reason : 'it appeared while the archive was unpacked');
    }
    return { status: 'fetched', dir: target, marker };
  } finally {
    if (download !== undefined) await rm(download, { force: true });
    await rm(partial, { recursive: true, force: true });
  }
}
