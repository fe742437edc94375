import { resolve } from 'node:path';
import { z } from 'zod';
import { describeZodIssues } from '../common/zod-issues.ts';
import type { StoreSettings } from '../lib/artifact-store/index.ts';

// Process settings from the environment: where Temporal and the artifact store are. Defaults match the services
// that `infra/services.sh` starts; point them at an existing cluster or S3 endpoint to use those instead.
const envSchema = z.object({
  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233').describe('host:port of the Temporal frontend'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  SPTAR_STORE: z.enum(['s3', 'local']).default('s3').describe('artifact store: s3 (MinIO or any S3) or local directory'),
  SPTAR_S3_ENDPOINT: z.url().default('http://127.0.0.1:9000'),
  SPTAR_S3_ACCESS_KEY: z.string().default('sptar-admin'),
  SPTAR_S3_SECRET_KEY: z.string().default('sptar-admin-secret'),
  SPTAR_S3_BUCKET: z.string().default('sptar-artifacts'),
  SPTAR_S3_REGION: z.string().default('us-east-1'),
  SPTAR_LOCAL_STORE_DIR: z.string().default('artifacts'),
  TEMPORAL_UI_PORT: z.coerce.number().int().positive().default(8233),
  TEMPORAL_UI_URL: z.url().optional().describe('Base URL of the Temporal Web UI, for links; default the local dev server UI'),
});

export interface Settings {
  readonly temporalAddress: string;
  readonly namespace: string;
  readonly store: StoreSettings;
  /** Base URL of the Temporal Web UI (links printed by the CLI). */
  readonly uiUrl: string;
}

export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) throw new Error(`invalid environment settings: ${describeZodIssues(parsed.error)}`);
  const e = parsed.data;
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
  return { temporalAddress: e.TEMPORAL_ADDRESS, namespace: e.TEMPORAL_NAMESPACE, store, uiUrl: e.TEMPORAL_UI_URL ?? `http://127.0.0.1:${e.TEMPORAL_UI_PORT}` };
}
