// The HTML report opened in a real headless Chromium (Debian's chromium-headless-shell, installed by
// `bash infra/install.sh chromium`): the report as `sptar start` exports it to reports/<run id>/report.html (the
// same export function), opened from that path; the metrics table must lay out with its five rows and the SVG
// charts must have real size and painted pixels. Without the browser the test skips on a developer machine and
// fails in CI.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { inflateSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { createReportActivities } from '../../activities/report-activities.ts';
import { exportReports, reportDir } from '../../workers/report-export.ts';
import { reportFixture, RUN_ID } from '../unit/report/report-fixture.ts';

const CHROMIUM = process.env['SPTAR_CHROMIUM'] ?? fileURLToPath(new URL('../../.tools/bin/chromium-headless', import.meta.url));

function skipUnlessChromium(): false | string {
  if (existsSync(CHROMIUM)) return false;
  if (process.env['CI'] === 'true') throw new Error(`${CHROMIUM} is missing in CI; run 'bash infra/install.sh chromium'`);
  return `${CHROMIUM} not installed (bash infra/install.sh chromium)`;
}

const run = promisify(execFile);

/** Runs the headless browser on a local page. --no-sandbox: the page is our own file, and root (CI) has no sandbox. */
async function chromium(args: readonly string[], profile: string): Promise<string> {
  const { stdout } = await run(CHROMIUM, ['--no-sandbox', '--disable-gpu', '--hide-scrollbars', `--user-data-dir=${profile}`, ...args], { timeout: 60_000, maxBuffer: 64 << 20 });
  return stdout;
}

// Measures the laid-out page and writes the numbers into the DOM, which --dump-dom then prints.
const PROBE = `<script>
addEventListener('load', () => {
  const box = (e) => { const r = e.getBoundingClientRect(); return { w: r.width, h: r.height }; };
  const metrics = document.querySelector('#metrics');
  const out = {
    metricsRows: [...metrics.querySelectorAll('tbody tr')].map((tr) => ({ cells: [...tr.cells].map((c) => c.textContent), h: box(tr).h })),
    metricsBox: box(metrics),
    svgs: [...document.querySelectorAll('figure.chart svg')].map((s) => ({ label: s.getAttribute('aria-label'), ...box(s) })),
    seriesLengths: [...document.querySelectorAll('path.series')].map((p) => p.getTotalLength()),
    barWidths: [...document.querySelectorAll('rect.bar')].map((r) => r.getBBox().width),
  };
  const pre = document.createElement('pre');
  pre.id = 'probe';
  pre.textContent = JSON.stringify(out);
  document.body.append(pre);
});
</script>`;

interface Probe {
  metricsRows: { cells: string[]; h: number }[];
  metricsBox: { w: number; h: number };
  svgs: { label: string; w: number; h: number }[];
  seriesLengths: number[];
  barWidths: number[];
}

/** RGBA pixels of an 8-bit non-interlaced PNG (what Chromium's --screenshot writes). */
function decodePng(png: Buffer): { width: number; height: number; rgba: Uint8Array } {
  assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG', 'screenshot is not a PNG');
  let pos = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (pos < png.length) {
    const len = png.readUInt32BE(pos);
    const type = png.subarray(pos + 4, pos + 8).toString('latin1');
    const data = png.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      assert.equal(data[8], 8, 'expected 8-bit channels');
      assert.equal(data[12], 0, 'expected a non-interlaced PNG');
      channels = ({ 2: 3, 6: 4 } as Record<number, number>)[data[9]!] ?? 0;
      assert.ok(channels > 0, `unsupported PNG colour type ${data[9]}`);
    } else if (type === 'IDAT') idat.push(data);
    pos += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const pixels = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    for (let x = 0; x < stride; x++) {
      const v = raw[y * (stride + 1) + 1 + x]!;
      const a = x >= channels ? pixels[y * stride + x - channels]! : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + x]! : 0;
      const c = x >= channels && y > 0 ? pixels[(y - 1) * stride + x - channels]! : 0;
      const p = a + b - c;
      const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
      const pred = [0, a, b, (a + b) >> 1, paeth][filter];
      assert.ok(pred !== undefined, `bad PNG filter ${filter} on row ${y}`);
      pixels[y * stride + x] = (v + pred) & 0xff;
    }
  }
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    for (let k = 0; k < 3; k++) rgba[i * 4 + k] = pixels[i * channels + k]!;
    rgba[i * 4 + 3] = channels === 4 ? pixels[i * channels + 3]! : 255;
  }
  return { width, height, rgba };
}

const decodeEntities = (text: string): string =>
  text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&nbsp;/g, '\u00a0').replace(/&amp;/g, '&');

/** The cells of the metrics table's body rows in a DOM as Chromium serializes it. */
function metricsRows(dom: string): string[][] {
  const table = /<table id="metrics">([\s\S]*?)<\/table>/.exec(dom)?.[1];
  assert.ok(table, 'no metrics table in the DOM Chromium dumped');
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(table)?.[1] ?? '';
  return [...body.matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/g)].map((row) => [...row[1]!.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((cell) => decodeEntities(cell[1]!.replace(/<[^>]+>/g, ''))));
}

describe('HTML report in headless Chromium', { skip: skipUnlessChromium() }, () => {
  let dir: string;
  let page: string;
  let markdown: string;
  let stored: { html: Uint8Array; markdown: Uint8Array };

  before(async () => {
    const fixture = await reportFixture();
    dir = fixture.dir;
    const out = await createReportActivities({ store: fixture.store }).writeReport(fixture.input);
    stored = { html: await fixture.store.get(out.html), markdown: await fixture.store.get(out.markdown) };
    // Exported as the main job does when the run it follows finishes.
    const exported = await exportReports(fixture.store, { markdown: out.markdown.key, html: out.html.key }, reportDir(RUN_ID, join(dir, 'reports')));
    assert.ok(exported.html, 'the export wrote no report.html');
    page = exported.html;
    markdown = exported.markdown;
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('the exported report.html, opened from its path, shows the metrics table with five rows', async () => {
    assert.equal(page, join(dir, 'reports', RUN_ID, 'report.html'));
    assert.equal(markdown, join(dir, 'reports', RUN_ID, 'report.md'));
    assert.equal(await readFile(page, 'utf8'), new TextDecoder().decode(stored.html));
    assert.equal(await readFile(markdown, 'utf8'), new TextDecoder().decode(stored.markdown));
    const rows = metricsRows(await chromium(['--dump-dom', `file://${page}`], join(dir, 'profile-exported')));
    assert.deepEqual(rows.map((r) => r[0]), ['BM25', 'Zero-shot encoder', 'W/O (labeled pairs only)', 'InPars-style', 'SPTAR']);
    assert.deepEqual(rows[0], ['BM25', '0.4000', '0.2000', '0.9000', '0.4000', '3']);
    assert.ok(rows.every((r) => r.length === 6), `rows of ${rows.map((r) => r.length).join(', ')} cells`);
  });

  it('lays out the metrics table with five rows and charts with drawn paths and bars', async () => {
    // The exported page with the measuring script added, beside it.
    const probed = join(dirname(page), 'probed.html');
    await writeFile(probed, (await readFile(page, 'utf8')).replace('</body>', `${PROBE}</body>`));
    const dom = await chromium(['--dump-dom', `file://${probed}`], join(dir, 'profile-dom'));
    const json = /<pre id="probe">(.*?)<\/pre>/s.exec(dom)?.[1];
    assert.ok(json, 'the probe did not run: no #probe element in the dumped DOM');
    const probe = JSON.parse(json.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')) as Probe;

    assert.deepEqual(probe.metricsRows.map((r) => r.cells[0]), ['BM25', 'Zero-shot encoder', 'W/O (labeled pairs only)', 'InPars-style', 'SPTAR']);
    assert.deepEqual(probe.metricsRows[0]!.cells.slice(1), ['0.4000', '0.2000', '0.9000', '0.4000', '3']);
    for (const r of probe.metricsRows) assert.ok(r.h > 5, `a metrics row rendered ${r.h}px high`);
    assert.ok(probe.metricsBox.w > 200, `metrics table is ${probe.metricsBox.w}px wide`);

    assert.deepEqual(probe.svgs.map((s) => s.label), ['SPTAR: query length', 'InPars-style: query length', 'Prompt tuning: S_eval loss (best epoch 2)', 'Dense retrievers: dev nDCG@10', 'Time per stage']);
    for (const s of probe.svgs) assert.ok(s.w >= 500 && s.h >= 100, `${s.label} rendered ${s.w}x${s.h}`);
    // One S_eval curve and three retriever curves, each spanning the plot (480 px wide) or more.
    assert.equal(probe.seriesLengths.length, 4);
    for (const len of probe.seriesLengths) assert.ok(len >= 480, `a curve is only ${len}px long`);
    assert.ok(probe.barWidths.length >= 10 && probe.barWidths.every((w) => w >= 0) && Math.max(...probe.barWidths) > 300, `bar widths ${probe.barWidths.join(',')}`);
  });

  it('paints the charts: curve and bar colours appear in a screenshot', async () => {
    const png = join(dir, 'report.png');
    await chromium(['--window-size=1200,4000', `--screenshot=${png}`, `file://${page}`], join(dir, 'profile-shot'));
    const { width, height, rgba } = decodePng(await readFile(png));
    assert.deepEqual([width, height], [1200, 4000]);
    const count = (r: number, g: number, b: number): number => {
      let n = 0;
      for (let i = 0; i < rgba.length; i += 4) if (Math.abs(rgba[i]! - r) + Math.abs(rgba[i + 1]! - g) + Math.abs(rgba[i + 2]! - b) < 30) n++;
      return n;
    };
    // The first series colour (#1f77b4) draws the S_eval curve, the first retriever curve and the wall-time bars;
    // the second (#d62728 in line charts, #ff7f0e in bar charts) the other curves and bars.
    const blue = count(0x1f, 0x77, 0xb4);
    const red = count(0xd6, 0x27, 0x28);
    const orange = count(0xff, 0x7f, 0x0e);
    assert.ok(blue > 2000, `only ${blue} blue pixels`);
    assert.ok(red > 300, `only ${red} red pixels`);
    assert.ok(orange > 1000, `only ${orange} orange pixels`);
  });
});
