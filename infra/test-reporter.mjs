// Test reporter for infra/run-tests.sh: Node's spec reporter, minus what the test processes print. Worker logs,
// among them the "[WARN] Activity failed" blocks with stack traces that tests provoking a failure on purpose cause,
// go to the file in SPTAR_TEST_OUTPUT_LOG (default .state/test/logs/test-output.log) instead of the results. No
// failure is hidden: failing tests are reported by the spec reporter as always, and for every file with a failing
// test (or that crashed before its tests ran) the last lines that file printed are shown after the results.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { Transform } from 'node:stream';
import { spec as SpecReporter } from 'node:test/reporters';

const LOG = resolve(process.env['SPTAR_TEST_OUTPUT_LOG'] ?? '.state/test/logs/test-output.log');
const TAIL = 60;

class OutputToFile extends Transform {
  #spec = new SpecReporter();
  #tails = new Map(); // file -> its last TAIL lines of output
  #failedFiles = new Set();
  #lines = 0;
  #counts = { passed: 0, failed: 0, skipped: 0 };

  constructor() {
    super({ writableObjectMode: true });
    mkdirSync(dirname(LOG), { recursive: true });
    writeFileSync(LOG, '');
    this.#spec.on('data', (chunk) => this.push(chunk));
  }

  _transform(event, _encoding, callback) {
    if (event.type === 'test:stdout' || event.type === 'test:stderr') {
      const file = event.data.file ? relative(process.cwd(), event.data.file) : '(runner)';
      const lines = String(event.data.message).replace(/\n$/, '').split('\n');
      appendFileSync(LOG, lines.map((l) => `[${file}] ${l}\n`).join(''));
      this.#lines += lines.length;
      const tail = this.#tails.get(file) ?? [];
      tail.push(...lines);
      this.#tails.set(file, tail.slice(-TAIL));
      callback();
      return;
    }
    if (event.type === 'test:fail' && !event.data.todo) this.#failedFiles.add(event.data.file ? relative(process.cwd(), event.data.file) : '(runner)');
    // Tests, not suites, as the spec reporter's own summary counts them.
    if ((event.type === 'test:pass' || event.type === 'test:fail') && event.data.details?.type !== 'suite') {
      if (event.data.skip) this.#counts.skipped++;
      else if (event.type === 'test:pass') this.#counts.passed++;
      else if (!event.data.todo) this.#counts.failed++;
    }
    this.#spec.write(event, callback);
  }

  _flush(callback) {
    this.#spec.once('end', () => {
      for (const file of this.#failedFiles) {
        const tail = this.#tails.get(file);
        if (!tail?.length) continue;
        this.push(`\nlast ${tail.length} lines printed by ${file} (a test in it failed):\n${tail.map((l) => `  ${l}`).join('\n')}\n`);
      }
      const where = relative(process.cwd(), LOG);
      this.push(`\n${this.#lines} lines of output of the test processes (worker logs, expected-failure warnings) are in ${where}\n`);
      const c = this.#counts;
      this.push(`tests: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped\n`);
      callback();
    });
    this.#spec.end();
  }
}

export default new OutputToFile();
