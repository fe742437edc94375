// The import graph's layering, checked on the source as it is: no circles, the ONNX engine at the bottom of lib/,
// lib/ below activities/workers/workflows, and benchmarks calling the library rather than activities.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FOLDERS = ['lib', 'activities', 'workflows', 'common', 'workers', 'bench'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'results' ? [] : sourceFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** Project-relative file -> the project files it imports (type-only imports included: they are edges too). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of FOLDERS.flatMap((f) => sourceFiles(join(ROOT, f)))) {
    const imports = ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles.map((i) => i.fileName);
    const local = imports.filter((spec) => spec.startsWith('.')).map((spec) => resolve(dirname(file), spec));
    for (const target of local) assert.ok(existsSync(target), `${relative(ROOT, file)} imports ${relative(ROOT, target)}, which does not exist`);
    graph.set(relative(ROOT, file), local.map((t) => relative(ROOT, t)));
  }
  return graph;
}

function findCycle(graph: ReadonlyMap<string, readonly string[]>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): string[] | null => {
    if (state.get(node) === 'done') return null;
    if (state.get(node) === 'open') return [...path.slice(path.indexOf(node)), node];
    state.set(node, 'open');
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(node, 'done');
    return null;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return null;
}

const edges = (graph: ReadonlyMap<string, readonly string[]>, from: string, to: (target: string) => boolean) =>
  [...graph].flatMap(([file, deps]) => (file.startsWith(from) ? deps.filter(to).map((d) => `${file} -> ${d}`) : []));

describe('import graph', () => {
  const graph = importGraph();

  it('finds a circle when there is one', () => {
    assert.deepEqual(findCycle(new Map([['a', ['b']], ['b', ['c']], ['c', ['b']]])), ['b', 'c', 'b']);
    assert.equal(findCycle(new Map([['a', ['b']], ['b', ['c']], ['c', []]])), null);
  });

  it('has no circles', () => {
    assert.ok(graph.size > 100, `only ${graph.size} files read`);
    assert.equal(findCycle(graph), null);
  });

  it('lib/onnx imports nothing above it, and lib/ nothing from activities, workflows or workers', () => {
    assert.deepEqual(edges(graph, 'lib/onnx/', (d) => !d.startsWith('lib/onnx/')), []);
    assert.deepEqual(edges(graph, 'lib/', (d) => /^(activities|workflows|workers)\//.test(d)), []);
  });

  it('benchmarks import nothing from activities/', () => {
    assert.deepEqual(edges(graph, 'bench/', (d) => d.startsWith('activities/')), []);
  });
});
