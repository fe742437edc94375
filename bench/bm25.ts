// BM25 engines at scale: index time, ms per query and peak memory for each backend at 100k and 1M synthetic
// documents (bench/bm25-synthetic-corpus.ts). Each (backend, size) runs in its own child process so its peak
// memory is its own; a child that passes the heap or time cap is stopped and reported as such.
//   npm run bench:bm25                                  # compact and lunr at 100k and 1M
//   npm run bench:bm25 -- --sizes 100000 --backends compact
//   npm run bench:bm25 -- --scifact                     # nDCG@10 of both backends on SciFact test
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadQrels, loadQueries, readCorpus } from '../lib/beir/index.ts';
import { indexDocuments, type Bm25Backend } from '../lib/bm25/index.ts';
import { evaluateRun } from '../lib/metrics/index.ts';
import { syntheticDocuments, syntheticQueries, syntheticVocabulary } from './bm25-synthetic-corpus.ts';

const { values } = parseArgs({
  options: {
    child: { type: 'boolean', default: false },
    backend: { type: 'string', default: 'compact' },
    size: { type: 'string', default: '100000' },
    sizes: { type: 'string', default: '100000,1000000' },
    backends: { type: 'string', default: 'compact,lunr' },
    queries: { type: 'string', default: '200' },
    'heap-cap-mb': { type: 'string', default: '8192' },
    'time-cap-s': { type: 'string', default: '900' },
    'query-budget-s': { type: 'string', default: '40' },
    seed: { type: 'string', default: '7' },
    scifact: { type: 'boolean', default: false },
  },
});
const seed = Number(values.seed);
const MB = 1024 * 1024;

interface ChildReport {
  backend: string;
  documents: number;
  indexSeconds: number;
  generationSeconds: number;
  queries: number;
  msPerQuery: number;
  meanHits: number;
  serializedMB: number | null;
  peakRssMB: number;
  peakHeapMB: number;
  peakArrayBuffersMB: number;
  terms: number | null;
  postings: number | null;
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
  const queries = syntheticQueries(vocabulary, Number(values.queries), seed);
  const budgetMs = Number(values['query-budget-s']) * 1000;
  let hits = 0;
  let done = 0;
  const q0 = performance.now();
  for (const q of queries) {
    hits += index.search(q, 100).length;
    done++;
    if (performance.now() - q0 > budgetMs) break;
  }
  const queryMs = (performance.now() - q0) / done;
  sample();
  // lunr's serialised JSON at this scale would take longer and more memory than the index itself.
  const serializedMB = backend === 'compact' ? index.serialize().byteLength / MB : null;
  sample();
  const compact = 'termCount' in index ? (index as unknown as { termCount: number; postingCount: number }) : null;
  const report: ChildReport = {
    backend,
    documents: size,
    indexSeconds: indexMs / 1000,
    generationSeconds: generation / 1000,
    queries: done,
    msPerQuery: queryMs,
    meanHits: hits / done,
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
  console.log('backend  documents  index s  (gen s)  ms/query  queries  peak RSS MB  peak heap MB  arrays MB  stored MB  terms  postings');
  for (const backend of backends) {
    for (const size of sizes) {
      const outcome = await spawnChild(backend, size);
      if (outcome.ok) {
        const r = outcome.report;
        console.log(
          [
            r.backend.padEnd(7),
            String(r.documents).padStart(10),
            r.indexSeconds.toFixed(1).padStart(8),
            `(${r.generationSeconds.toFixed(1)})`.padStart(8),
            r.msPerQuery.toFixed(2).padStart(9),
            String(r.queries).padStart(8),
            r.peakRssMB.toFixed(0).padStart(12),
            r.peakHeapMB.toFixed(0).padStart(13),
            r.peakArrayBuffersMB.toFixed(0).padStart(10),
            (r.serializedMB === null ? '-' : r.serializedMB.toFixed(0)).padStart(10),
            String(r.terms ?? '-').padStart(6),
            String(r.postings ?? '-').padStart(9),
          ].join(' '),
        );
      } else {
        console.log(`${backend.padEnd(7)} ${String(size).padStart(10)}  ${outcome.reason} after ${outcome.seconds.toFixed(0)} s, ~${outcome.lastProgress} documents read`);
      }
    }
  }
}

async function runScifact(): Promise<void> {
  const dir = fileURLToPath(new URL('../../shared/data/scifact', import.meta.url));
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
