// BM25 engines at scale: index time, query latency and peak memory for each backend at 100k and 1M synthetic
// documents (bench/bm25-synthetic-corpus.ts). Each (backend, size) runs in its own child process so its peak
// memory is its own; a child that passes the heap or time cap is stopped and reported as such. Queries follow two
// models: SciFact-shaped (realistic) and Zipf-drawn (a stress case); each is timed one query at a time after a
// warm-up. A calibration loop printed with each row tells how fast the shared machine was at that moment.
//   npm run bench:bm25                                  # compact and lunr at 100k and 1M
//   npm run bench:bm25 -- --sizes 100000 --backends compact
//   npm run bench:bm25 -- --scifact                     # nDCG@10 of both backends on SciFact test
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadQrels, loadQueries, readCorpus } from '../lib/beir/index.ts';
import { CompactBm25Index, indexDocuments, type Bm25Backend, type Bm25Index } from '../lib/bm25/index.ts';
import { evaluateRun } from '../lib/metrics/index.ts';
import { queryShapes, shapedQueries, syntheticDocuments, syntheticVocabulary, zipfQueries } from './bm25-synthetic-corpus.ts';

const { values } = parseArgs({
  options: {
    child: { type: 'boolean', default: false },
    backend: { type: 'string', default: 'compact' },
    size: { type: 'string', default: '100000' },
    sizes: { type: 'string', default: '100000,1000000' },
    backends: { type: 'string', default: 'compact,lunr' },
    queries: { type: 'string', default: '1000' },
    'warm-up': { type: 'string', default: '50' },
    'heap-cap-mb': { type: 'string', default: '8192' },
    'time-cap-s': { type: 'string', default: '900' },
    'query-budget-s': { type: 'string', default: '40' },
    'lunr-1m': { type: 'boolean', default: false },
    seed: { type: 'string', default: '7' },
    scifact: { type: 'boolean', default: false },
  },
});
const seed = Number(values.seed);
const MB = 1024 * 1024;
const scifactDir = fileURLToPath(new URL('../../shared/data/scifact', import.meta.url));
const QUERY_MODELS = ['scifact', 'zipf'] as const;
type QueryModel = (typeof QUERY_MODELS)[number];

interface Latency {
  model: QueryModel;
  queries: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  /** Process CPU time per query: less sensitive than wall time to other processes on the shared cores. */
  cpuMs: number;
  meanHits: number;
  /** Compact only: exhaustive scoring on the first queries, and how many of its rankings differed. */
  exhaustiveMs: number | null;
  mismatches: number | null;
}

interface ChildReport {
  backend: string;
  documents: number;
  indexSeconds: number;
  generationSeconds: number;
  latency: Latency[];
  calibrationNs: number;
  serializedMB: number | null;
  peakRssMB: number;
  peakHeapMB: number;
  peakArrayBuffersMB: number;
  terms: number | null;
  postings: number | null;
}

/** Nanoseconds per dependent floating-point add: ~1 on an idle modern core; more when the cores are shared. */
function calibrate(): number {
  const a = new Float64Array(4096).map((_, i) => i);
  let s = 0;
  const t0 = performance.now();
  for (let r = 0; r < 5000; r++) for (let i = 0; i < a.length; i++) s += a[i]!;
  const ns = ((performance.now() - t0) * 1e6) / (5000 * a.length);
  return s > 0 ? ns : Number.NaN;
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;

function timeQueries(index: Bm25Index, model: QueryModel, queries: string[], warmUp: number, budgetMs: number): Latency {
  for (const q of queries.slice(0, warmUp)) index.search(q, 100);
  const timed = queries.slice(warmUp);
  const times: number[] = [];
  let hits = 0;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  for (const q of timed) {
    const t0 = performance.now();
    hits += index.search(q, 100).length;
    times.push(performance.now() - t0);
    if (performance.now() - start > budgetMs) break;
  }
  const cpu = process.cpuUsage(cpu0);
  const sorted = [...times].sort((x, y) => x - y);
  let exhaustiveMs: number | null = null;
  let mismatches: number | null = null;
  if (index instanceof CompactBm25Index) {
    const sample = timed.slice(0, 30);
    mismatches = 0;
    let total = 0;
    for (const q of sample) {
      const t0 = performance.now();
      const exact = index.search(q, 100, { exhaustive: true });
      total += performance.now() - t0;
      if (JSON.stringify(exact) !== JSON.stringify(index.search(q, 100))) mismatches++;
    }
    exhaustiveMs = total / sample.length;
  }
  return {
    model,
    queries: times.length,
    meanMs: times.reduce((x, y) => x + y, 0) / times.length,
    p50Ms: percentile(sorted, 0.5),
    p95Ms: percentile(sorted, 0.95),
    maxMs: sorted[sorted.length - 1]!,
    cpuMs: (cpu.user + cpu.system) / 1000 / times.length,
    meanHits: hits / times.length,
    exhaustiveMs,
    mismatches,
  };
}

async function runChild(): Promise<void> {
  const backend = values.backend as Bm25Backend;
  const size = Number(values.size);
  const vocabulary = syntheticVocabulary(seed);
  const peak = { heap: 0, rss: 0, arrayBuffers: 0 };
  const sample = () => {
    const m = process.memoryUsage();
    peak.heap = Math.max(peak.heap, m.heapUsed);
    peak.rss = Math.max(peak.rss, m.rss);
    peak.arrayBuffers = Math.max(peak.arrayBuffers, m.arrayBuffers);
  };
  let generation = 0;
  const timedDocuments = function* () {
    const it = syntheticDocuments(vocabulary, size, seed, (i) => {
      if (i % 10_000 === 0) {
        sample();
        process.stderr.write(`progress ${i}\n`);
      }
    });
    for (;;) {
      const t = performance.now();
      const r = it.next();
      generation += performance.now() - t;
      if (r.done) return;
      yield r.value;
    }
  };
  const t0 = performance.now();
  const index = await indexDocuments(timedDocuments(), { backend });
  const indexMs = performance.now() - t0 - generation;
  sample();
  const shapes = await queryShapes(readCorpus(`${scifactDir}/corpus.jsonl`), (await loadQueries(`${scifactDir}/queries.jsonl`)).value.values());
  const count = Number(values.queries);
  // lunr needs seconds per query at this scale: one warm-up query, then as many as the budget allows.
  const warmUp = backend === 'lunr' ? 1 : Number(values['warm-up']);
  const budgetMs = Number(values['query-budget-s']) * 1000;
  const calibrationNs = calibrate();
  const latency = [
    timeQueries(index, 'scifact', shapedQueries(vocabulary, shapes, warmUp + count, seed), warmUp, budgetMs),
    timeQueries(index, 'zipf', zipfQueries(vocabulary, warmUp + count, seed), warmUp, budgetMs),
  ];
  sample();
  // lunr's serialised JSON at this scale would take longer and more memory than the index itself.
  const serializedMB = backend === 'compact' ? index.serialize().byteLength / MB : null;
  sample();
  const compact = index instanceof CompactBm25Index ? index : null;
  const report: ChildReport = {
    backend,
    documents: size,
    indexSeconds: indexMs / 1000,
    generationSeconds: generation / 1000,
    latency,
    calibrationNs,
    serializedMB,
    peakRssMB: Math.max(peak.rss, process.resourceUsage().maxRSS * 1024) / MB,
    peakHeapMB: peak.heap / MB,
    peakArrayBuffersMB: peak.arrayBuffers / MB,
    terms: compact?.termCount ?? null,
    postings: compact?.postingCount ?? null,
  };
  console.log(`RESULT ${JSON.stringify(report)}`);
}

type Outcome = { ok: true; report: ChildReport } | { ok: false; reason: string; lastProgress: number; seconds: number };

function spawnChild(backend: string, size: number): Promise<Outcome> {
  const heapCap = Number(values['heap-cap-mb']);
  const timeCap = Number(values['time-cap-s']);
  const args = [
    `--max-old-space-size=${heapCap}`,
    '--import',
    'tsx',
    fileURLToPath(import.meta.url),
    '--child',
    '--backend',
    backend,
    '--size',
    String(size),
    '--queries',
    values.queries,
    '--warm-up',
    values['warm-up'],
    '--query-budget-s',
    values['query-budget-s'],
    '--seed',
    String(seed),
  ];
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let lastProgress = 0;
    let stderrTail = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeCap * 1000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      const text = d.toString();
      for (const m of text.matchAll(/progress (\d+)/g)) lastProgress = Number(m[1]);
      stderrTail = (stderrTail + text.replace(/progress \d+\n/g, '')).slice(-2000);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const seconds = (performance.now() - started) / 1000;
      const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (code === 0 && line) return resolve({ ok: true, report: JSON.parse(line.slice('RESULT '.length)) as ChildReport });
      const reason = timedOut
        ? `stopped at the ${timeCap} s time cap`
        : /heap out of memory|Reached heap limit/.test(stderrTail)
          ? `stopped at the ${heapCap} MB heap cap (V8 out of memory)`
          : `exited with ${code ?? signal}: ${stderrTail.trim().split('\n').slice(-3).join(' | ')}`;
      resolve({ ok: false, reason, lastProgress, seconds });
    });
  });
}

async function runParent(): Promise<void> {
  const sizes = values.sizes.split(',').map(Number);
  const backends = values.backends.split(',');
  console.log(`BM25 benchmark: synthetic Zipfian corpus (seed ${seed}), top-100 per query, one child process per row`);
  console.log('backend  documents  index s  (gen s)  peak RSS MB  heap MB  arrays MB  stored MB     terms   postings  calib ns/add');
  console.log('    queries        n  mean ms   p50 ms   p95 ms   max ms  CPU ms  hits  exhaustive ms  mismatches');
  const done = new Map<string, ChildReport>();
  for (const backend of backends) {
    for (const size of sizes) {
      const smaller = [...done.values()].filter((r) => r.backend === backend && r.documents < size).at(-1);
      if (backend === 'lunr' && size >= 1_000_000 && !values['lunr-1m']) {
        // lunr's build grows at least linearly; at 1M it needs more memory than this machine has.
        const note = smaller
          ? `projected from ${smaller.documents}: >= ${((smaller.indexSeconds * size) / smaller.documents / 60).toFixed(0)} min to index, >= ${((smaller.peakRssMB * size) / smaller.documents / 1024).toFixed(1)} GB RSS`
          : 'no smaller run to project from';
        console.log(`${backend.padEnd(7)} ${String(size).padStart(10)}  skipped (${note}); --lunr-1m runs it`);
        continue;
      }
      const outcome = await spawnChild(backend, size);
      if (outcome.ok) {
        const r = outcome.report;
        done.set(`${backend}/${size}`, r);
        console.log(
          [
            r.backend.padEnd(7),
            String(r.documents).padStart(10),
            r.indexSeconds.toFixed(1).padStart(8),
            `(${r.generationSeconds.toFixed(1)})`.padStart(8),
            r.peakRssMB.toFixed(0).padStart(12),
            r.peakHeapMB.toFixed(0).padStart(8),
            r.peakArrayBuffersMB.toFixed(0).padStart(10),
            (r.serializedMB === null ? '-' : r.serializedMB.toFixed(0)).padStart(10),
            String(r.terms ?? '-').padStart(9),
            String(r.postings ?? '-').padStart(10),
            r.calibrationNs.toFixed(2).padStart(13),
          ].join(' '),
        );
        for (const l of r.latency) {
          console.log(
            [
              `    ${l.model.padEnd(7)}`,
              String(l.queries).padStart(8),
              l.meanMs.toFixed(2).padStart(8),
              l.p50Ms.toFixed(2).padStart(8),
              l.p95Ms.toFixed(2).padStart(8),
              l.maxMs.toFixed(1).padStart(8),
              l.cpuMs.toFixed(2).padStart(7),
              l.meanHits.toFixed(0).padStart(5),
              (l.exhaustiveMs === null ? '-' : l.exhaustiveMs.toFixed(1)).padStart(14),
              String(l.mismatches ?? '-').padStart(11),
            ].join(' '),
          );
        }
      } else {
        console.log(`${backend.padEnd(7)} ${String(size).padStart(10)}  ${outcome.reason} after ${outcome.seconds.toFixed(0)} s, ~${outcome.lastProgress} documents read`);
      }
    }
  }
}

async function runScifact(): Promise<void> {
  const dir = scifactDir;
  const queries = (await loadQueries(`${dir}/queries.jsonl`)).value;
  const qrels = (await loadQrels(`${dir}/qrels/test.tsv`)).value;
  console.log('SciFact test (300 queries), top 1000; references: BEIR 0.665, Anserini flat 0.679');
  for (const backend of ['compact', 'lunr'] as const) {
    const t0 = performance.now();
    const index = await indexDocuments(readCorpus(`${dir}/corpus.jsonl`), { backend });
    const t1 = performance.now();
    const run = new Map<string, Map<string, number>>();
    for (const qid of qrels.keys()) run.set(qid, new Map(index.search(queries.get(qid)!, 1000).map((h) => [h.id, h.score])));
    const t2 = performance.now();
    const m = evaluateRun(qrels, run).mean;
    console.log(
      `${backend.padEnd(7)} nDCG@10 ${m['ndcg@10']!.toFixed(4)}  MAP@100 ${m['map@100']!.toFixed(4)}  Recall@100 ${m['recall@100']!.toFixed(4)}  MRR@10 ${m['mrr@10']!.toFixed(4)}  index ${((t1 - t0) / 1000).toFixed(1)} s  ${((t2 - t1) / qrels.size).toFixed(2)} ms/query`,
    );
  }
}

if (values.child) await runChild();
else if (values.scifact) await runScifact();
else await runParent();
