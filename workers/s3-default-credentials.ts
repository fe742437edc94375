import { isIP } from 'node:net';

/**
 * The workers' MinIO user on the local services (infra/services.sh creates it with access to the artifact bucket
 * only; infra/env.sh holds the same defaults).
 */
export const DEFAULT_S3_WORKER_CREDENTIALS = { accessKey: 'sptar-worker', secretKey: 'sptar-worker-secret' } as const;

// Every S3 secret this repository publishes: the workers' default above, the local MinIO's root account
// (infra/env.sh) and the test services' two accounts (infra/run-tests.sh). Anyone can read them, so they are fit
// only for a store that listens on this machine's loopback interface.
const PUBLISHED_SECRETS: ReadonlySet<string> = new Set([
  DEFAULT_S3_WORKER_CREDENTIALS.secretKey,
  'sptar-admin-secret',
  'sptar-test-secret',
  'sptar-test-root-secret',
]);

/** True for localhost, 127.0.0.0/8 and ::1 (also as an IPv4-mapped IPv6 address); `host` as URL.hostname gives it. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(h) || /^::ffff:7f[0-9a-f]{2}:/.test(h);
  return false;
}

/**
 * Refuses the repository's published credentials for an S3 endpoint off this machine: there they would open the
 * store to anyone who has read this code.
 */
export function refuseDefaultCredentialsOffLoopback(endpoint: string, secretKey: string): void {
  const host = new URL(endpoint).hostname;
  if (isLoopbackHost(host) || !PUBLISHED_SECRETS.has(secretKey)) return;
  throw new Error(
    `SPTAR_S3_ENDPOINT ${endpoint} is not on this machine (its host ${host} is not a loopback address), and the S3 ` +
      `credentials are this project's published defaults: set SPTAR_S3_ACCESS_KEY and SPTAR_S3_SECRET_KEY to the ` +
      `credentials of a user of that store (one that may use the artifact bucket only).`,
  );
}
