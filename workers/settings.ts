import { resolve } from 'node:path';
import { z } from 'zod';
import { describeZodIssues } from '../common/zod-issues.ts';
import type { StoreSettings } from '../lib/artifact-store/index.ts';
import { parseDataRoots, type DataRoots } from '../lib/data-roots/data-roots.ts';
import { DEFAULT_S3_WORKER_CREDENTIALS, refuseDefaultCredentialsOffLoopback } from './s3-default-credentials.ts';
import { temporalTlsSettings, type TemporalTlsSettings } from './temporal-tls.ts';

// An empty variable (`export TEMPORAL_API_KEY=`) counts as unset.
const optionalText = z.preprocess((v) => (v === '' ? undefined : v), z.string().optional());

// Process settings from the environment: where Temporal and the artifact store are, and how to reach them securely.
// Defaults match the services that `infra/services.sh` starts; point them at an existing cluster or S3 endpoint to
// use those instead.
const envSchema = z.object({
  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233').describe('host:port of the Temporal frontend'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_TLS: z
    .preprocess((v) => (v === '' ? undefined : v), z.enum(['true', 'false']).optional())
    .describe('TLS to Temporal; unset: on when any TEMPORAL_TLS_* setting or TEMPORAL_API_KEY is set'),
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: optionalText.describe("PEM file of the CA that issued the server's certificate (default the system's roots)"),
  TEMPORAL_TLS_CLIENT_CERT_PATH: optionalText.describe('PEM client certificate for mTLS, with TEMPORAL_TLS_CLIENT_KEY_PATH'),
  TEMPORAL_TLS_CLIENT_KEY_PATH: optionalText.describe("PEM private key of the client certificate"),
  TEMPORAL_TLS_SERVER_NAME: optionalText.describe("name to check the server's certificate against (and SNI) when it is not TEMPORAL_ADDRESS's host"),
  TEMPORAL_API_KEY: optionalText.describe('API key (Temporal Cloud), sent as "Authorization: Bearer <key>"'),
  SPTAR_STORE: z.enum(['s3', 'local']).default('s3').describe('artifact store: s3 (MinIO or any S3) or local directory'),
  SPTAR_S3_ENDPOINT: z.url().default('http://127.0.0.1:9000'),
  SPTAR_S3_ACCESS_KEY: z.string().default(DEFAULT_S3_WORKER_CREDENTIALS.accessKey).describe('the workers\' S3 user (not the root account)'),
  SPTAR_S3_SECRET_KEY: z.string().default(DEFAULT_S3_WORKER_CREDENTIALS.secretKey),
  SPTAR_S3_BUCKET: z.string().default('sptar-artifacts'),
  SPTAR_S3_REGION: z.string().default('us-east-1'),
  SPTAR_LOCAL_STORE_DIR: z.string().default('artifacts'),
  TEMPORAL_UI_PORT: z.coerce.number().int().positive().default(8233),
  TEMPORAL_UI_URL: z.url().optional().describe('Base URL of the Temporal Web UI, for links; default the local dev server UI'),
  SPTAR_DATA_ROOTS: z
    .string()
    .optional()
    .describe("Folders (separated by the path delimiter, ':' on POSIX) every file a config names must lie in: dataset, model weights, tokenizers; default the working directory"),
});

export interface Settings {
  readonly temporalAddress: string;
  readonly namespace: string;
  /** TLS to the Temporal frontend; undefined: plaintext. */
  readonly temporalTls: TemporalTlsSettings | undefined;
  /** API key sent with every Temporal request (Temporal Cloud). */
  readonly temporalApiKey: string | undefined;
  readonly store: StoreSettings;
  /** Base URL of the Temporal Web UI (links printed by the CLI). */
  readonly uiUrl: string;
  /** Absolute folders the files a config names (dataset, models, tokenizers) must lie in, compared lexically. */
  readonly dataRoots: DataRoots;
}

export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) throw new Error(`invalid environment settings: ${describeZodIssues(parsed.error)}`);
  const e = parsed.data;
  if (e.SPTAR_STORE === 's3') refuseDefaultCredentialsOffLoopback(e.SPTAR_S3_ENDPOINT, e.SPTAR_S3_SECRET_KEY);
  const temporalTls = temporalTlsSettings({
    tls: e.TEMPORAL_TLS,
    serverCaCertPath: e.TEMPORAL_TLS_SERVER_CA_CERT_PATH,
    clientCertPath: e.TEMPORAL_TLS_CLIENT_CERT_PATH,
    clientKeyPath: e.TEMPORAL_TLS_CLIENT_KEY_PATH,
    serverName: e.TEMPORAL_TLS_SERVER_NAME,
    apiKey: e.TEMPORAL_API_KEY,
  });
  const store: StoreSettings =
    e.SPTAR_STORE === 's3'
      ? {
          kind: 's3',
          endpoint: e.SPTAR_S3_ENDPOINT,
          accessKey: e.SPTAR_S3_ACCESS_KEY,
          secretKey: e.SPTAR_S3_SECRET_KEY,
          bucket: e.SPTAR_S3_BUCKET,
          region: e.SPTAR_S3_REGION,
        }
      : { kind: 'local', dir: resolve(e.SPTAR_LOCAL_STORE_DIR) };
  return {
    temporalAddress: e.TEMPORAL_ADDRESS,
    namespace: e.TEMPORAL_NAMESPACE,
    temporalTls,
    temporalApiKey: e.TEMPORAL_API_KEY,
    store,
    uiUrl: e.TEMPORAL_UI_URL ?? `http://127.0.0.1:${e.TEMPORAL_UI_PORT}`,
    dataRoots: parseDataRoots(e.SPTAR_DATA_ROOTS),
  };
}
