// Exporting a run's report from the store to local files, and the lines `sptar start` ends with.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LocalArtifactStore } from '../../../lib/artifact-store/index.ts';
import { defaultReportPath, displayPath, exportReports, exportReportTo, reportDir, reportFormat, type ReportKeys } from '../../../workers/report-export.ts';
import { finishedLines, runUiUrl, shellArg } from '../../../workers/run-summary.ts';

const HTML = '<!doctype html><title>SPTAR run</title><table id="metrics"></table>';
const MARKDOWN = '# SPTAR run\n\n| system | nDCG@10 |\n';

describe('report export', () => {
  let dir: string;
  let store: LocalArtifactStore;
  let keys: ReportKeys;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sptar-report-export-'));
    store = new LocalArtifactStore(join(dir, 'store'));
    keys = { markdown: (await store.put('run/report/abc/report.md', MARKDOWN)).key, html: (await store.put('run/report/abc/report.html', HTML)).key };
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('writes the format asked for to the path given, creating folders, and names the path in its message', async () => {
    const cwd = join(dir, 'project');
    const html = await exportReportTo(store, keys, 'scifact-1', { out: 'out/run.html', cwd });
    assert.equal(html.path, join(cwd, 'out/run.html'));
    assert.equal(await readFile(html.path, 'utf8'), HTML);
    assert.equal(html.message, 'wrote the HTML report of scifact-1 to out/run.html');

    const md = await exportReportTo(store, keys, 'scifact-1', { format: 'md', out: join(dir, 'elsewhere', 'r.txt'), cwd });
    assert.equal(await readFile(md.path, 'utf8'), MARKDOWN);
    // Outside the working folder the message gives the absolute path.
    assert.equal(md.message, `wrote the Markdown report of scifact-1 to ${join(dir, 'elsewhere', 'r.txt')}`);

    // Without --out: reports/<run id>/report.<format>; without --format: by the extension of --out, else HTML.
    const byDefault = await exportReportTo(store, keys, 'scifact/1 b', { cwd });
    assert.equal(byDefault.path, join(cwd, 'reports', 'scifact_1_b', 'report.html'));
    assert.equal(byDefault.message, 'wrote the HTML report of scifact/1 b to reports/scifact_1_b/report.html');
    assert.equal((await exportReportTo(store, keys, 'scifact-1', { out: 'r.md', cwd })).message, 'wrote the Markdown report of scifact-1 to r.md');
  });

  it('writes both reports into a folder for the main job', async () => {
    const out = join(dir, 'reports', 'scifact-2');
    const written = await exportReports(store, keys, out);
    assert.deepEqual(written, { html: join(out, 'report.html'), markdown: join(out, 'report.md') });
    assert.equal(await readFile(written.html!, 'utf8'), HTML);
    assert.equal(await readFile(written.markdown, 'utf8'), MARKDOWN);
    // A run from before the HTML report: the Markdown one only.
    assert.deepEqual(await exportReports(store, { markdown: keys.markdown }, join(dir, 'old')), { markdown: join(dir, 'old', 'report.md') });
    await assert.rejects(exportReportTo(store, { markdown: keys.markdown }, 'old', { cwd: dir }), /this run has no HTML report .*--format md/);
  });

  it('formats, folders and paths', () => {
    assert.equal(reportFormat(undefined, undefined), 'html');
    assert.equal(reportFormat(undefined, 'a/B.MD'), 'md');
    assert.equal(reportFormat(undefined, 'a.markdown'), 'md');
    assert.equal(reportFormat(undefined, 'a.htm'), 'html');
    assert.equal(reportFormat('md', 'a.html'), 'md');
    assert.throws(() => reportFormat('pdf', undefined), /--format must be html or md, got 'pdf'/);
    assert.equal(reportDir('scifact-2026-01-01T10-00-00-000Z'), 'reports/scifact-2026-01-01T10-00-00-000Z');
    assert.equal(reportDir('../x'), 'reports/__x');
    assert.equal(defaultReportPath('r1', 'md'), 'reports/r1/report.md');
    assert.equal(displayPath('/work/p/reports/r1/report.html', '/work/p'), 'reports/r1/report.html');
    assert.equal(displayPath('/tmp/r.html', '/work/p'), '/tmp/r.html');
  });
});

describe('the end of a followed run', () => {
  it('shell words and UI links', () => {
    assert.equal(shellArg('scifact-2026-01-01T10-00-00-000Z'), 'scifact-2026-01-01T10-00-00-000Z');
    assert.equal(shellArg('configs/scifact-default.json'), 'configs/scifact-default.json');
    assert.equal(shellArg("my run's id"), `'my run'\\''s id'`);
    assert.equal(runUiUrl('http://127.0.0.1:8233/', 'default', 'a/b', 'r-1'), 'http://127.0.0.1:8233/namespaces/default/workflows/a%2Fb/r-1');
    assert.equal(runUiUrl('http://ui', 'sptar-bench', 'x'), 'http://ui/namespaces/sptar-bench/workflows/x');
  });

  it('prints where the reports are, the run page and the npx commands that follow', () => {
    const id = 'scifact-2026-01-01T10-00-00-000Z';
    assert.deepEqual(
      finishedLines({
        workflowId: id,
        runId: '0190-run',
        uiUrl: 'http://127.0.0.1:8233',
        namespace: 'default',
        configPath: 'configs/scifact-default.json',
        runName: 'scifact',
        reports: { html: `/work/p/reports/${id}/report.html`, markdown: `/work/p/reports/${id}/report.md` },
        cwd: '/work/p',
      }),
      [
        `finished ${id}`,
        `  HTML report:     reports/${id}/report.html`,
        `  Markdown report: reports/${id}/report.md`,
        `  Temporal UI:     http://127.0.0.1:8233/namespaces/default/workflows/${id}/0190-run`,
        'next:',
        `  npx sptar status ${id}                            # metrics of the run`,
        `  npx sptar report ${id} --format md --out -        # the Markdown report in the terminal`,
        '  npx sptar schedule create configs/scifact-default.json --id nightly-scifact  # re-augment nightly as the corpus grows',
      ],
    );
  });
});
