import { Connection, type TLSConfig } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type LogLevel } from '@temporalio/worker';
import type { Settings } from './settings.ts';
import { readTlsConfig } from './temporal-tls.ts';
import { diagnoseTls } from './temporal-tls-diagnosis.ts';

/** What every connection to Temporal (workers, CLI, benches, tests) is opened with. */
export interface TemporalConnectionOptions {
  readonly address: string;
  /** false: plaintext, also with an API key (the SDK would otherwise turn TLS on for one). */
  readonly tls: TLSConfig | false;
  readonly apiKey?: string;
}

/** The connection options of the settings; reads and checks the certificate files (clear errors when they fail). */
export function temporalConnectionOptions(settings: Settings): TemporalConnectionOptions {
  return {
    address: settings.temporalAddress,
    tls: settings.temporalTls === undefined ? false : readTlsConfig(settings.temporalTls),
    ...(settings.temporalApiKey !== undefined && { apiKey: settings.temporalApiKey }),
  };
}

async function unreachable(settings: Settings, options: TemporalConnectionOptions, err: unknown): Promise<Error> {
  const at = `cannot reach Temporal at ${settings.temporalAddress} (${(err as Error).message}).`;
  const diagnosis = await diagnoseTls(settings.temporalAddress, options.tls).catch(() => undefined);
  if (diagnosis !== undefined) return new Error(`${at} ${diagnosis}`);
  if (options.tls === false) {
    return new Error(
      `${at} Start the local server with 'npm run services:start', or set TEMPORAL_ADDRESS to your cluster ` +
        `(for one that requires TLS or an API key, see the TEMPORAL_TLS* settings in the README).`,
    );
  }
  return new Error(`${at} Check TEMPORAL_ADDRESS; a TLS handshake with these settings succeeds there.`);
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
  const options = temporalConnectionOptions(settings);
  try {
    return await NativeConnection.connect(options);
  } catch (err) {
    throw await unreachable(settings, options, err);
  }
}

export async function connectClient(settings: Settings): Promise<Connection> {
  const options = temporalConnectionOptions(settings);
  try {
    return await Connection.connect({ ...options, connectTimeout: '10 seconds' });
  } catch (err) {
    throw await unreachable(settings, options, err);
  }
}
