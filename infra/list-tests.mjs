// Prints the test files of one suite, one per line, for `node --test` (Node 20 has no recursive glob for .ts).
//   unit:        test/unit/**/*.test.ts        pure code, no services
//   integration: test/integration/**/*.test.ts real Temporal dev server and object store
//   all:         both
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const suite = process.argv[2] ?? 'all';
const roots = { unit: ['test/unit'], integration: ['test/integration'], all: ['test/unit', 'test/integration'] }[suite];
if (!roots) {
  console.error(`unknown suite '${suite}' (expected unit, integration or all)`);
  process.exit(2);
}
function walk(dir) {
  let entries;
  try {
    entries = readdirSync(dir).sort();
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return walk(path);
    return name.endsWith('.test.ts') ? [path] : [];
  });
}
const files = roots.flatMap(walk);
if (files.length === 0) {
  console.error(`no test files in ${roots.join(', ')}`);
  process.exit(1);
}
console.log(files.join('\n'));
