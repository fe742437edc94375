import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadSettings, type Settings } from '../../workers/settings.ts';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

// infra/run-tests.sh starts a Temporal dev server and a MinIO for the tests alone (own ports, state folder
// .state/test/, namespace sptar-test, S3 credentials) and sets SPTAR_TEST_SERVICES=own with every setting pointing
// at them. Without it the tests would run against whatever the environment names, by default the user's own
// services on the default ports, write their workflows and artifacts there, and the fault tests would restart them.
function requireOwnServices(): void {
  if (process.env['SPTAR_TEST_SERVICES'] !== 'own' || !process.env['SPTAR_STATE_DIR']) {
    throw new Error(
      'integration tests run only against the services infra/run-tests.sh starts for them, never a user\'s: ' +
        "run 'npm test', 'npm run test:integration' or 'bash infra/run-tests.sh test/integration/FILE.test.ts'",
    );
  }
}

/** Settings of the tests' own services (started by infra/run-tests.sh through infra/services.sh). */
export function serviceSettings(): Settings {
  requireOwnServices();
  return loadSettings();
}

/** Runs infra/services.sh with the given arguments (e.g. restart temporal) on the tests' own services. */
export function services(...args: string[]): void {
  requireOwnServices();
  execFileSync('bash', ['infra/services.sh', ...args], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] });
}

/** Temporal Web UI base URL of the tests' own dev server. */
export function uiUrl(): string {
  return `http://127.0.0.1:${process.env['TEMPORAL_UI_PORT'] ?? '8233'}`;
}
