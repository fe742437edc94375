// `sptar data list | fetch`, and the dataset step of `sptar start`: a configured dataset folder that does not exist
// is fetched by name before the run starts. Settings come from the environment:
//   SPTAR_DATASET_BASE_URL  where archives are downloaded from (default BEIR's server; a mirror, or a loopback
//                           server in tests)
//   SPTAR_DATASET_PIN       NAME:BYTES:SHA256 replaces the registry's pin of that one dataset (an archive built
//                           from another copy); it is printed whenever it is used, and BEIR's MD5 is then not checked
import { basename, dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { describeZodIssues } from '../common/zod-issues.ts';
import {
  DEFAULT_DATASET_BASE_URL,
  KNOWN_DATASETS,
  DatasetError,
  archiveUrl,
  datasetFolderState,
  ensureDataset,
  findDataset,
  formatBytes,
  registryPin,
  type DatasetEntry,
  type EffectivePin,
  type FetchDatasetOptions,
  type FetchDatasetResult,
} from '../lib/datasets/index.ts';

const DEFAULT_DATA_DIR = 'data';
const PIN_OVERRIDE_VARIABLE = 'SPTAR_DATASET_PIN';

const datasetEnvSchema = z.object({
  SPTAR_DATASET_BASE_URL: z.url().default(DEFAULT_DATASET_BASE_URL).describe('Base URL the dataset archives are downloaded from'),
  SPTAR_DATASET_PIN: z
    .string()
    .regex(/^([a-z0-9][a-z0-9-]*):([1-9][0-9]*):([0-9a-f]{64})$/, 'expected NAME:BYTES:SHA256 (sha256 in lowercase hex)')
    .optional()
    .describe("Replaces one dataset's pinned archive size and sha256"),
});

export interface DatasetSettings {
  readonly baseUrl: string;
  readonly pinOverride?: { readonly name: string; readonly bytes: number; readonly sha256: string };
}

export function loadDatasetSettings(env: NodeJS.ProcessEnv = process.env): DatasetSettings {
  const parsed = datasetEnvSchema.safeParse(env);
  if (!parsed.success) throw new Error(`invalid dataset settings: ${describeZodIssues(parsed.error)}`);
  const { SPTAR_DATASET_BASE_URL: baseUrl, SPTAR_DATASET_PIN: pin } = parsed.data;
  if (pin === undefined) return { baseUrl };
  const [name = '', bytes = '', sha256 = ''] = pin.split(':');
  if (!findDataset(name)) throw new Error(`${PIN_OVERRIDE_VARIABLE} names '${name}', which is not a known dataset (${[...KNOWN_DATASETS.keys()].join(', ')})`);
  return { baseUrl, pinOverride: { name, bytes: Number(bytes), sha256 } };
}

/** The registry's pin, or the override for this dataset (MD5 unknown then: BEIR publishes it for its own archive only). */
export function effectivePin(entry: DatasetEntry, settings: DatasetSettings): EffectivePin {
  const o = settings.pinOverride;
  if (o?.name !== entry.name) return registryPin(entry);
  return { pin: { bytes: o.bytes, sha256: o.sha256, md5: null }, source: PIN_OVERRIDE_VARIABLE };
}

export interface Output {
  /** Writes text as it is (no newline added). */
  readonly write: (text: string) => void;
  /** A terminal: progress redraws one line; otherwise only the start and end of a download are printed. */
  readonly isTTY: boolean;
}

const stdout: Output = { write: (t) => process.stdout.write(t), isTTY: process.stdout.isTTY === true };

/** Fetch options that print the download on one line, and the override when one is in force. */
function printingOptions(entry: DatasetEntry, settings: DatasetSettings, out: Output): FetchDatasetOptions {
  const pin = effectivePin(entry, settings);
  if (pin.source !== 'registry') {
    out.write(`${entry.name}: pin from ${PIN_OVERRIDE_VARIABLE}: ${formatBytes(pin.pin.bytes)} bytes, sha256 ${pin.pin.sha256} (not the registry's; BEIR's MD5 not checked)\n`);
  }
  let lastDraw = 0;
  return {
    baseUrl: settings.baseUrl,
    pin,
    onDownloadStart: (url, bytes) => out.write(`${entry.name}: downloading ${url} (${formatBytes(bytes)} bytes)\n`),
    onProgress: ({ receivedBytes, totalBytes }) => {
      if (!out.isTTY) return;
      const now = Date.now();
      if (receivedBytes < totalBytes && now - lastDraw < 200) return;
      lastDraw = now;
      out.write(`\r  ${formatBytes(receivedBytes)} / ${formatBytes(totalBytes)} bytes (${Math.floor((100 * receivedBytes) / totalBytes)}%)`);
      if (receivedBytes === totalBytes) out.write('\n');
    },
  };
}

function describeResult(entry: DatasetEntry, r: FetchDatasetResult): string {
  const a = r.marker.archive;
  if (r.status === 'present') return `${entry.name}: ${r.dir} is verified (unpacked from the archive with sha256 ${a.sha256}); nothing downloaded`;
  const md5 = a.pinSource === 'registry' && entry.archive.pin.md5 !== null ? `, BEIR's MD5 ${a.md5}` : '';
  return `${entry.name}: verified ${formatBytes(a.bytes)} bytes, sha256 ${a.sha256}${md5}; unpacked ${r.marker.files.length} files into ${r.dir}`;
}

/** What else a person can do when the download or its check failed; `archiveDir` is DIR of `data fetch --dir DIR`. */
function alternatives(entry: DatasetEntry, archiveDir: string | null): string {
  const mirror = `mirror it: SPTAR_DATASET_BASE_URL=<folder URL holding ${entry.archive.file}>`;
  const local = archiveDir === null
    ? `or point dataset.path at a BEIR folder of ${entry.name} you already have`
    : `or check and unpack a downloaded copy: npx sptar data fetch ${entry.name} --archive ${entry.archive.file} --dir ${archiveDir}`;
  return `(or ${mirror}; ${local})`;
}

/** A DatasetError's message without its cause chain (the message already says everything the cause would). */
function plain(err: unknown): unknown {
  return err instanceof DatasetError ? new Error(err.message) : err;
}

function knownDataset(name: string | undefined): DatasetEntry {
  const known = [...KNOWN_DATASETS.keys()].join(', ');
  if (!name) throw new Error(`data fetch needs a dataset name (known: ${known})`);
  const entry = findDataset(name);
  if (!entry) throw new Error(`unknown dataset '${name}' (known: ${known}); for another BEIR dataset, unpack it anywhere and point dataset.path at its folder`);
  return entry;
}

export const DATA_USAGE = `  data list [--dir DIR]                       datasets sptar can fetch by name, and whether DIR/<name> (default data/) holds a verified copy
  data fetch <name> [--dir DIR] [--archive FILE]   download (or take FILE), verify and unpack into DIR/<name> (default data/)`;

/** `sptar data ...`: `args` are the words after `data`. */
export async function runDataCommand(args: readonly string[], out: Output = stdout, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const { positionals, values } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: { dir: { type: 'string', default: DEFAULT_DATA_DIR }, archive: { type: 'string' } },
  });
  const [sub, name] = positionals;
  const settings = loadDatasetSettings(env);
  switch (sub) {
    case 'list': {
      for (const entry of KNOWN_DATASETS.values()) {
        const dir = resolve(values.dir, entry.name);
        const pin = effectivePin(entry, settings);
        const state = await datasetFolderState(entry, dir, pin.pin);
        const at =
          state.state === 'verified' ? 'verified' : state.state === 'missing' ? 'not fetched' : state.state === 'unmarked' ? 'present, not fetched by sptar' : `damaged: ${state.reason}`;
        out.write(`${entry.name}  ${entry.description}\n  archive ${archiveUrl(entry, settings.baseUrl)}  ${formatBytes(pin.pin.bytes)} bytes  sha256 ${pin.pin.sha256}\n  ${dir}: ${at}\n`);
      }
      return;
    }
    case 'fetch': {
      const entry = knownDataset(name);
      const options = printingOptions(entry, settings, out);
      try {
        const result = await ensureDataset(entry, resolve(values.dir, entry.name), values.archive === undefined ? options : { ...options, archivePath: values.archive });
        out.write(`${describeResult(entry, result)}\n`);
      } catch (err) {
        if (err instanceof DatasetError && (err.kind === 'download' || err.kind === 'verify') && values.archive === undefined) {
          throw new Error(`${err.message}\n${alternatives(entry, values.dir)}`);
        }
        throw plain(err);
      }
      return;
    }
    default:
      throw new Error(`unknown data command '${sub ?? ''}'\nusage: sptar data list | fetch <name>\n${DATA_USAGE}`);
  }
}

/**
 * The dataset step of `sptar start`: when `dataset.path` does not exist and `dataset.name` is a dataset sptar
 * knows, fetch it there (verified) before the run starts. A folder that exists is left alone: a verified fetched
 * copy is reported, a folder the user made is used as it is, a damaged fetched copy stops the start.
 */
export async function prepareConfiguredDataset(
  dataset: { readonly name: string; readonly path: string },
  out: Output = stdout,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const entry = findDataset(dataset.name);
  if (!entry) return; // not fetchable by name: the prepare stage names any missing file
  const settings = loadDatasetSettings(env);
  const target = resolve(dataset.path);
  const state = await datasetFolderState(entry, target, effectivePin(entry, settings).pin);
  if (state.state === 'unmarked') {
    out.write(`dataset ${entry.name}: ${dataset.path} (not fetched by sptar; used as it is)\n`);
    return;
  }
  if (state.state === 'missing') out.write(`dataset ${entry.name}: ${target} is missing or empty; fetching it\n`);
  try {
    const result = await ensureDataset(entry, target, printingOptions(entry, settings, out));
    out.write(`${result.status === 'present' ? `dataset ${entry.name}: ${dataset.path} (verified, archive sha256 ${result.marker.archive.sha256})` : describeResult(entry, result)}\n`);
  } catch (err) {
    if (err instanceof DatasetError && (err.kind === 'download' || err.kind === 'verify')) {
      // `data fetch --dir` unpacks into DIR/<name>, so it can fill this path only when the folder is named so.
      throw new Error(`${err.message}\n${alternatives(entry, basename(target) === entry.name ? dirname(dataset.path) : null)}`);
    }
    throw plain(err);
  }
}
