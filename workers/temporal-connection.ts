import { Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type LogLevel } from '@temporalio/worker';
import type { Settings } from './settings.ts';

function unreachable(settings: Settings, err: unknown): Error {
  return new Error(
    `cannot reach Temporal at ${settings.temporalAddress} (${(err as Error).message}). ` +
      `Start the local server with 'npm run services:start', or set TEMPORAL_ADDRESS to your cluster.`,
  );
}

let runtimeInstalled = false;

/** Installs the worker runtime once, with the log level from SPTAR_LOG_LEVEL (default INFO). */
function installRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const level = (process.env['SPTAR_LOG_LEVEL'] ?? 'INFO').toUpperCase();
  if (!['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'].includes(level)) {
    throw new Error(`SPTAR_LOG_LEVEL must be TRACE, DEBUG, INFO, WARN or ERROR (got '${level}')`);
  }
  Runtime.install({ logger: new DefaultLogger(level as LogLevel) });
}

export async function connectWorker(settings: Settings): Promise<NativeConnection> {
  installRuntime();
  try {
    return await NativeConnection.connect({ address: settings.temporalAddress });
  } catch (err) {
    throw unreachable(settings, err);
  }
}

export async function connectClient(settings: Settings): Promise<Connection> {
  try {
    return await Connection.connect({ address: settings.temporalAddress, connectTimeout: '10 seconds' });
  } catch (err) {
    throw unreachable(settings, err);
  }
}
