// Datasets sptar can fetch by name: where BEIR publishes each one's archive and the facts that archive is checked
// against before anything is unpacked. The pins are of the archive as BEIR serves it (not of any unpacked copy).
import { z } from 'zod';

/** BEIR's own loader (`beir.util.download_and_unzip`) downloads from here. */
export const DEFAULT_DATASET_BASE_URL = 'https://public.ukp.informatik.tu-darmstadt.de/thakur/BEIR/datasets';

/** A path inside a dataset folder: forward slashes, no empty, `.` or `..` segment, not absolute. */
const folderRelativePath = z
  .string()
  .regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/)
  .refine((p) => p.split('/').every((s) => s !== '.' && s !== '..'), 'no . or .. segments');

export const archivePinSchema = z
  .object({
    bytes: z.number().int().positive().describe('Exact size of the archive in bytes'),
    sha256: z.string().regex(/^[0-9a-f]{64}$/).describe('sha256 of the archive, lowercase hex'),
    md5: z.string().regex(/^[0-9a-f]{32}$/).nullable().describe('MD5 of the archive as BEIR publishes it; null when no such figure exists'),
  })
  .strict();
export type ArchivePin = z.infer<typeof archivePinSchema>;

export const datasetEntrySchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/).describe('Name used on the command line and in dataset.name'),
    description: z.string().min(1),
    archive: z
      .object({
        file: z.string().regex(/^[A-Za-z0-9._-]+\.zip$/).describe('File name of the archive under the base URL'),
        pin: archivePinSchema,
      })
      .strict(),
    folder: z.string().regex(/^[A-Za-z0-9_.-]+$/).describe('The one top-level folder inside the archive that holds the BEIR files'),
    files: z
      .array(folderRelativePath)
      .min(1)
      .describe('Files, relative to the folder, that every BEIR copy of this dataset has: an archive without one of them is refused'),
  })
  .strict();
export type DatasetEntry = z.infer<typeof datasetEntrySchema>;

const KNOWN: readonly DatasetEntry[] = [
  {
    name: 'scifact',
    description: 'SciFact (BEIR): 5,183 abstracts, 1,109 claims, train and test qrels',
    archive: {
      file: 'scifact.zip',
      pin: { bytes: 2_816_079, sha256: '536e14446a0ba56ed1398ab1055f39fe852686ecad24a6306c80c490fa8e0165', md5: '5f7d1de60b170fc8027bb7898e2efca1' },
    },
    folder: 'scifact',
    files: ['corpus.jsonl', 'queries.jsonl', 'qrels/test.tsv', 'qrels/train.tsv'],
  },
];

/** The registry, checked against its schema when first imported: a mistyped pin fails at once, not on a download. */
export const KNOWN_DATASETS: ReadonlyMap<string, DatasetEntry> = new Map(KNOWN.map((d) => [d.name, datasetEntrySchema.parse(d)]));

export function findDataset(name: string): DatasetEntry | undefined {
  return KNOWN_DATASETS.get(name);
}

/** The archive's URL under a base URL (BEIR's server by default, or a mirror). */
export function archiveUrl(entry: DatasetEntry, baseUrl: string = DEFAULT_DATASET_BASE_URL): string {
  return `${baseUrl.replace(/\/+$/, '')}/${entry.archive.file}`;
}

/** 2816079 -> "2,816,079" (fixed grouping, so messages read the same on every locale). */
export function formatBytes(bytes: number): string {
  return String(bytes).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
