import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadSettings, type Settings } from '../../workers/settings.ts';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** Settings of the real services the integration tests run against (started by infra/services.sh). */
export function serviceSettings(): Settings {
  return loadSettings();
}

/** Runs infra/services.sh with the given arguments (e.g. restart temporal). */
export function services(...args: string[]): void {
  execFileSync('bash', ['infra/services.sh', ...args], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] });
}

/** Temporal Web UI base URL, as infra/services.sh starts it. */
export function uiUrl(): string {
  return `http://127.0.0.1:${process.env['TEMPORAL_UI_PORT'] ?? '8233'}`;
}
