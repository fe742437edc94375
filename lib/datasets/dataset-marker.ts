// The marker a fetch writes into a dataset folder once it is complete: which archive it was unpacked from and
// every file's size and sha256. A folder whose marker names the pinned archive and whose files have the recorded
// sizes is "verified" and used without a download; a folder without a marker was not made by a fetch and is
// never replaced.
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { describeZodIssues } from '../../common/zod-issues.ts';
import type { ArchivePin, DatasetEntry } from './dataset-registry.ts';

export const DATASET_MARKER_FILE = '.sptar-dataset.json';

export const datasetMarkerSchema = z
  .object({
    format: z.literal(1),
    name: z.string().min(1).describe('Registry name of the dataset'),
    archive: z
      .object({
        source: z.string().min(1).describe('URL the archive was downloaded from, or the local archive file'),
        bytes: z.number().int().positive(),
        sha256: z.string().regex(/^[0-9a-f]{64}$/),
        md5: z.string().regex(/^[0-9a-f]{32}$/),
        pinSource: z.string().min(1).describe("Where the pin the archive matched came from: 'registry' or the override that replaced it"),
      })
      .strict(),
    files: z
      .array(z.object({ path: z.string().min(1), bytes: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/) }).strict())
      .min(1)
      .describe('Every unpacked file, relative to the folder'),
    unpackedAt: z.iso.datetime(),
  })
  .strict();
export type DatasetMarker = z.infer<typeof datasetMarkerSchema>;

/** What is at a dataset folder's path. */
export type DatasetFolderState =
  | { readonly state: 'missing' }
  | { readonly state: 'verified'; readonly marker: DatasetMarker }
  /** A folder (or file) no fetch made: the user's own copy, used as it is and never replaced. */
  | { readonly state: 'unmarked' }
  /** A fetched folder that no longer matches the pin or its marker. */
  | { readonly state: 'mismatch'; readonly reason: string };

const errorCode = (err: unknown): string | undefined => (err as NodeJS.ErrnoException | null)?.code;

/** Reads and checks the marker in `dir`; throws with the file named when it is there but unreadable. */
async function readMarker(dir: string): Promise<DatasetMarker | null> {
  const path = join(dir, DATASET_MARKER_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return null;
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path} is not valid JSON (${(err as Error).message})`, { cause: err });
  }
  const parsed = datasetMarkerSchema.safeParse(json);
  if (!parsed.success) throw new Error(`${path} is not a dataset marker: ${describeZodIssues(parsed.error)}`);
  return parsed.data;
}

/**
 * The state of `dir` as a copy of `entry` under `pin`. Checks sizes, not contents: re-hashing a large corpus on
 * every start would cost more than it protects against; the marker keeps each file's sha256 for a full check.
 */
export async function datasetFolderState(entry: DatasetEntry, dir: string, pin: ArchivePin): Promise<DatasetFolderState> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return { state: 'missing' };
    if (errorCode(err) === 'ENOTDIR') return { state: 'unmarked' };
    throw err;
  }
  if (names.length === 0) return { state: 'missing' }; // an empty folder holds nothing to keep
  let marker: DatasetMarker | null;
  try {
    marker = await readMarker(dir);
  } catch (err) {
    return { state: 'mismatch', reason: (err as Error).message };
  }
  if (!marker) return { state: 'unmarked' };
  if (marker.name !== entry.name) return { state: 'mismatch', reason: `its ${DATASET_MARKER_FILE} is of dataset '${marker.name}', not '${entry.name}'` };
  if (marker.archive.sha256 !== pin.sha256) {
    return { state: 'mismatch', reason: `it was unpacked from an archive with sha256 ${marker.archive.sha256}, not the pinned ${pin.sha256}` };
  }
  const recorded = new Set(marker.files.map((f) => f.path));
  const lacking = entry.files.find((f) => !recorded.has(f));
  if (lacking) return { state: 'mismatch', reason: `its ${DATASET_MARKER_FILE} lists no ${lacking}` };
  for (const file of marker.files) {
    const path = join(dir, ...file.path.split('/'));
    const size = await stat(path).then(
      (s) => (s.isFile() ? s.size : null),
      () => null,
    );
    if (size === null) return { state: 'mismatch', reason: `${path} is missing` };
    if (size !== file.bytes) return { state: 'mismatch', reason: `${path} is ${size} bytes, ${file.bytes} when unpacked` };
  }
  return { state: 'verified', marker };
}
