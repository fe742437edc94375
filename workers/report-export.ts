// A run's report out of the artifact store into local files, where a browser or an editor opens them: `sptar report`
// writes one format, and `sptar start` writes both into `reports/<run id>/` when the run it follows finishes.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import type { ArtifactStore } from '../lib/artifact-store/index.ts';

export const REPORT_FORMATS = ['html', 'md'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** The report artifacts of a run: the Markdown one always, the HTML one in runs whose report stage wrote it. */
export interface ReportKeys {
  readonly markdown: string;
  readonly html?: string;
}

const FORMAT_NAMES: Record<ReportFormat, string> = { html: 'HTML', md: 'Markdown' };
const FILE_NAMES: Record<ReportFormat, string> = { html: 'report.html', md: 'report.md' };

/** Folder of a run's exported reports: `reports/<workflow id>` (characters a file name cannot hold become `_`). */
export function reportDir(workflowId: string, root = 'reports'): string {
  return join(root, workflowId.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_'));
}

/** The format asked for: `--format`, else the extension of `--out`, else HTML. */
export function reportFormat(format: string | undefined, out: string | undefined): ReportFormat {
  if (format !== undefined) {
    if ((REPORT_FORMATS as readonly string[]).includes(format)) return format as ReportFormat;
    throw new Error(`--format must be html or md, got '${format}'`);
  }
  const ext = out === undefined || out === '-' ? '' : extname(out).toLowerCase();
  return ext === '.md' || ext === '.markdown' ? 'md' : 'html';
}

/** A path as the user can type it from `cwd`: relative below it, absolute elsewhere. */
export function displayPath(path: string, cwd = process.cwd()): string {
  const rel = relative(cwd, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : resolve(path);
}

/** The bytes of one report format; a run without an HTML report says so and names the format it has. */
export async function reportBytes(store: Pick<ArtifactStore, 'get'>, keys: ReportKeys, format: ReportFormat): Promise<Uint8Array> {
  const key = format === 'html' ? keys.html : keys.markdown;
  if (key === undefined) throw new Error('this run has no HTML report (its report stage predates it); export the Markdown one with --format md');
  return store.get(key);
}

/** Writes one format of the report to `out` (folders created); returns the absolute path written. */
export async function exportReport(store: Pick<ArtifactStore, 'get'>, keys: ReportKeys, format: ReportFormat, out: string): Promise<string> {
  const bytes = await reportBytes(store, keys, format);
  const path = resolve(out);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, bytes);
  return path;
}

/** Writes `report.html` (when the run has one) and `report.md` into `dir`; returns the absolute paths written. */
export async function exportReports(store: Pick<ArtifactStore, 'get'>, keys: ReportKeys, dir: string): Promise<{ readonly html?: string; readonly markdown: string }> {
  const html = keys.html === undefined ? undefined : await exportReport(store, keys, 'html', join(dir, FILE_NAMES.html));
  const markdown = await exportReport(store, keys, 'md', join(dir, FILE_NAMES.md));
  return { ...(html === undefined ? {} : { html }), markdown };
}

/** `wrote the HTML report of RUN to PATH`, the path as typed from `cwd`. */
export function wroteMessage(format: ReportFormat, workflowId: string, path: string, cwd = process.cwd()): string {
  return `wrote the ${FORMAT_NAMES[format]} report of ${workflowId} to ${displayPath(path, cwd)}`;
}

/** Default output file of `sptar report`: `reports/<workflow id>/report.<html|md>`. */
export const defaultReportPath = (workflowId: string, format: ReportFormat): string => join(reportDir(workflowId), FILE_NAMES[format]);

/**
 * `sptar report`: one format (`--format`, else by the extension of `--out`, else HTML) written to `--out` or to
 * `reports/<run id>/report.<html|md>`; returns the path written and the message that names it.
 */
export async function exportReportTo(
  store: Pick<ArtifactStore, 'get'>,
  keys: ReportKeys,
  workflowId: string,
  o: { readonly format?: string; readonly out?: string; readonly cwd?: string },
): Promise<{ readonly path: string; readonly message: string }> {
  const format = reportFormat(o.format, o.out);
  const path = await exportReport(store, keys, format, resolve(o.cwd ?? process.cwd(), o.out ?? defaultReportPath(workflowId, format)));
  return { path, message: wroteMessage(format, workflowId, path, o.cwd) };
}
