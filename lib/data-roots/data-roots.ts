// The folders a worker reads config-named files from (datasets, model weights, tokenizers). A path a config names is
// resolved against the working directory and must lie inside one of them, so a config cannot point a worker at any
// other file of its machine. The check is lexical: symlinks are not followed, so a link an operator placed inside a
// root (data/scifact -> ../shared/data/scifact) is allowed, while `..` and absolute paths outside every root are not.
import { delimiter, isAbsolute, relative, resolve, sep } from 'node:path';
import { ConfigError } from '../../common/errors.ts';

export type DataRoots = readonly string[];

/**
 * The roots of a `SPTAR_DATA_ROOTS` value: folders separated by the platform's path delimiter (`:` on POSIX), each
 * resolved against `cwd`; empty entries are skipped. Unset or empty: the working directory alone.
 */
export function parseDataRoots(value: string | undefined, cwd: string = process.cwd()): DataRoots {
  const roots = (value ?? '')
    .split(delimiter)
    .filter((entry) => entry.trim() !== '')
    .map((entry) => resolve(cwd, entry));
  return roots.length > 0 ? [...new Set(roots)] : [resolve(cwd)];
}

/** The roots this process's environment gives (`SPTAR_DATA_ROOTS`, else the working directory), as worker settings read them. */
export const environmentDataRoots = (): DataRoots => parseDataRoots(process.env['SPTAR_DATA_ROOTS']);

/** Whether the absolute `path` is `root` or lies below it, compared lexically. */
export function isWithinRoot(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!isAbsolute(rel) && rel !== '..' && !rel.startsWith(`..${sep}`));
}

/**
 * `path` (named by the config field `field`) resolved against `cwd`, without following symlinks; a ConfigError when it
 * lies outside every data root.
 */
export function resolveInDataRoots(field: string, path: string, roots: DataRoots, cwd: string = process.cwd()): string {
  const resolved = resolve(cwd, path);
  if (roots.some((root) => isWithinRoot(resolved, resolve(cwd, root)))) return resolved;
  throw new ConfigError(
    `${field}: ${resolved} is outside the worker's data roots (${roots.join(', ')}); move the files under one of them, ` +
      `or add a folder that holds them to SPTAR_DATA_ROOTS ('${delimiter}'-separated) in the environment of every worker that reads them`,
  );
}

/** A model source as the config names it: real weights from a file or folder, or a tiny model with a tokenizer file. */
type ModelSourcePaths = { readonly kind: 'file'; readonly path: string } | { readonly kind: 'tiny'; readonly tokenizer?: string | undefined };

/**
 * Refuses a configured model (`field`: 'llm' or 'encoder') whose files lie outside the data roots: the weights of a
 * file source, the tokenizer a tiny model names. A tiny model's built-in default tokenizer is not config input.
 */
export function requireModelInDataRoots(field: string, source: ModelSourcePaths, roots: DataRoots, cwd: string = process.cwd()): void {
  if (source.kind === 'file') resolveInDataRoots(`${field}.path`, source.path, roots, cwd);
  else if (source.tokenizer !== undefined) resolveInDataRoots(`${field}.tokenizer`, source.tokenizer, roots, cwd);
}
