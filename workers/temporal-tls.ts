import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { TLSConfig } from '@temporalio/client';

// How a process secures its connection to Temporal. The variable names are the ones the Temporal CLI and the other
// SDKs' environment configuration read, so one set of variables serves the workers, `sptar` and `temporal`.
export const TEMPORAL_TLS_ENV = {
  tls: 'TEMPORAL_TLS',
  serverCaCertPath: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  clientCertPath: 'TEMPORAL_TLS_CLIENT_CERT_PATH',
  clientKeyPath: 'TEMPORAL_TLS_CLIENT_KEY_PATH',
  serverName: 'TEMPORAL_TLS_SERVER_NAME',
  apiKey: 'TEMPORAL_API_KEY',
} as const;

/** TLS to the Temporal frontend. Paths are absolute; the files are read when a connection is made. */
export interface TemporalTlsSettings {
  /** PEM file of the CA that issued the server's certificate; unset: the system's trusted roots (Temporal Cloud). */
  readonly serverCaCertPath?: string;
  /** mTLS: the client's PEM certificate and private key, both or neither. */
  readonly clientCertPath?: string;
  readonly clientKeyPath?: string;
  /** Name the server's certificate must carry (also sent as SNI) when it is not the host in TEMPORAL_ADDRESS. */
  readonly serverName?: string;
}

/** The TEMPORAL_TLS* and TEMPORAL_API_KEY values as parsed from the environment (empty values already dropped). */
export interface TemporalSecurityEnv {
  readonly tls?: 'true' | 'false' | undefined;
  readonly serverCaCertPath?: string | undefined;
  readonly clientCertPath?: string | undefined;
  readonly clientKeyPath?: string | undefined;
  readonly serverName?: string | undefined;
  readonly apiKey?: string | undefined;
}

/**
 * TLS settings from the environment, or undefined for a plaintext connection. TLS is on when TEMPORAL_TLS=true, or,
 * with TEMPORAL_TLS unset, when a certificate path, the server name or an API key is set (an API key over plaintext
 * would travel in the clear; TEMPORAL_TLS=false sends it that way deliberately, e.g. to a local TLS sidecar).
 */
export function temporalTlsSettings(env: TemporalSecurityEnv): TemporalTlsSettings | undefined {
  const { tls, serverCaCertPath, clientCertPath, clientKeyPath, serverName, apiKey } = env;
  if ((clientCertPath === undefined) !== (clientKeyPath === undefined)) {
    throw new Error(
      `${TEMPORAL_TLS_ENV.clientCertPath} and ${TEMPORAL_TLS_ENV.clientKeyPath} go together (the client certificate ` +
        `and its private key, for mTLS): set both or neither`,
    );
  }
  const named = Object.entries({ serverCaCertPath, clientCertPath, serverName })
    .filter(([, v]) => v !== undefined)
    .map(([k]) => TEMPORAL_TLS_ENV[k as 'serverCaCertPath' | 'clientCertPath' | 'serverName']);
  if (tls === 'false') {
    if (named.length > 0) throw new Error(`${TEMPORAL_TLS_ENV.tls}=false contradicts ${named.join(', ')}: unset one or the other`);
    return undefined;
  }
  if (tls !== 'true' && named.length === 0 && apiKey === undefined) return undefined;
  return {
    ...(serverCaCertPath !== undefined && { serverCaCertPath: resolve(serverCaCertPath) }),
    ...(clientCertPath !== undefined && { clientCertPath: resolve(clientCertPath) }),
    ...(clientKeyPath !== undefined && { clientKeyPath: resolve(clientKeyPath) }),
    ...(serverName !== undefined && { serverName }),
  };
}

function readPem(variable: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why =
      e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.code === 'EISDIR' ? 'it is a directory' : e.message;
    throw new Error(`cannot read ${variable}=${path}: ${why}`);
  }
}

function parseCertificate(variable: string, path: string, pem: Buffer): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (err) {
    throw new Error(`${variable}=${path} is not a PEM certificate (${(err as Error).message})`);
  }
}

function parseKey(variable: string, path: string, pem: Buffer): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (err) {
    throw new Error(`${variable}=${path} is not an unencrypted PEM private key (${(err as Error).message})`);
  }
}

/**
 * Reads and checks the certificate files into the SDK's TLS options. Every problem a file can have (missing,
 * unreadable, not PEM, a key that does not match its certificate, an expired client certificate) is reported here
 * with the variable and path, rather than later as a handshake failure.
 */
export function readTlsConfig(tls: TemporalTlsSettings, now: Date = new Date()): TLSConfig {
  const config: TLSConfig = {};
  if (tls.serverName !== undefined) config.serverNameOverride = tls.serverName;
  if (tls.serverCaCertPath !== undefined) {
    const pem = readPem(TEMPORAL_TLS_ENV.serverCaCertPath, tls.serverCaCertPath);
    parseCertificate(TEMPORAL_TLS_ENV.serverCaCertPath, tls.serverCaCertPath, pem);
    config.serverRootCACertificate = pem;
  }
  if (tls.clientCertPath !== undefined && tls.clientKeyPath !== undefined) {
    const crt = readPem(TEMPORAL_TLS_ENV.clientCertPath, tls.clientCertPath);
    const key = readPem(TEMPORAL_TLS_ENV.clientKeyPath, tls.clientKeyPath);
    const cert = parseCertificate(TEMPORAL_TLS_ENV.clientCertPath, tls.clientCertPath, crt);
    const privateKey = parseKey(TEMPORAL_TLS_ENV.clientKeyPath, tls.clientKeyPath, key);
    if (!cert.checkPrivateKey(privateKey)) {
      throw new Error(
        `the key in ${TEMPORAL_TLS_ENV.clientKeyPath}=${tls.clientKeyPath} does not belong to the certificate in ` +
          `${TEMPORAL_TLS_ENV.clientCertPath}=${tls.clientCertPath}`,
      );
    }
    if (new Date(cert.validTo).getTime() < now.getTime()) {
      throw new Error(`the client certificate ${TEMPORAL_TLS_ENV.clientCertPath}=${tls.clientCertPath} expired on ${cert.validTo}`);
    }
    config.clientCertPair = { crt, key };
  }
  return config;
}
