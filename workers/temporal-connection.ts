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

/** An error and its causes, outermost first (at most 5: a cycle ends the walk). */
function causeChain(err: unknown): { code?: unknown; message?: unknown }[] {
  const chain: { code?: unknown; message?: unknown; cause?: unknown }[] = [];
  for (let e = err as (typeof chain)[number] | undefined; e && chain.length < 5 && !chain.includes(e); e = e.cause as typeof e) chain.push(e);
  return chain;
}

/**
 * gRPC UNAUTHENTICATED (16) or PERMISSION_DENIED (7): the server answered and refused the credentials. grpc-js (client
 * connections) carries the code; the worker's Rust core reports only tonic's description of it in the message.
 */
const refusedCredentials = (err: unknown): boolean =>
  causeChain(err).some(
    (e) =>
      e.code === 16 ||
      e.code === 7 ||
      (typeof e.message === 'string' &&
        /\b(UNAUTHENTICATED|PERMISSION_DENIED|Unauthenticated|PermissionDenied)\b|does not have valid authentication credentials|does not have permission to execute/.test(e.message)),
  );

/** The messages of an error and its causes, outermost first, each once. */
const messageChain = (err: unknown): string =>
  [...new Set(causeChain(err).flatMap((e) => (typeof e.message === 'string' && e.message !== '' ? [e.message] : [])))].join(': ');

async function unreachable(settings: Settings, options: TemporalConnectionOptions, err: unknown): Promise<Error> {
  if (refusedCredentials(err)) {
    return new Error(
      `Temporal at ${settings.temporalAddress} refused the credentials (${messageChain(err)}). ` +
        (options.apiKey === undefined
          ? 'Set TEMPORAL_API_KEY to an API key for the namespace, or give the client certificate (TEMPORAL_TLS_CLIENT_CERT_PATH / TEMPORAL_TLS_CLIENT_KEY_PATH) the cluster expects.'
          : 'Set TEMPORAL_API_KEY to a valid key: the one given is unknown, expired or not allowed on this namespace.'),
    );
  }
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
