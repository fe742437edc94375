// Replay fixtures from integration runs: with SPTAR_RECORD_HISTORIES=1 a test saves the histories of the runs it
// made (infra/record-history.sh, against the tests' own Temporal) as test/fixtures/histories/NAME.json, which
// test/unit/workflows/replay-histories.test.ts then replays on every suite run. Without it, nothing is written.
import { execFileSync } from 'node:child_process';
import { repoRoot } from './services.ts';

export const recordingHistories = process.env['SPTAR_RECORD_HISTORIES'] === '1';

/** Saves the finished execution `workflowId` as the fixture NAME when recording is on. */
export function recordHistory(name: string, workflowId: string): void {
  if (!recordingHistories) return;
  execFileSync('bash', ['infra/record-history.sh', name, workflowId], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] });
}
