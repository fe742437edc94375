import { isIP } from 'node:net';
import { connect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import type { TLSConfig } from '@temporalio/client';
import { TEMPORAL_TLS_ENV as ENV } from './temporal-tls.ts';

// When a connection to Temporal fails, grpc-js says only "Failed to connect before the deadline" and the Rust core
// names TLS errors in its own terms. One TLS handshake of our own, with the same settings, tells the user which
// setting is wrong.

/** host and port of a TEMPORAL_ADDRESS (`host:port`, `[v6]:port`, or a host alone on the default port 7233). */
export function splitAddress(address: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(address) ?? /^([^:]+)(?::(\d+))?$/.exec(address);
  if (!m?.[1]) return { host: address, port: 7233 };
  return { host: m[1], port: m[2] ? Number(m[2]) : 7233 };
}

type Outcome = { ok: true; socket: TLSSocket } | { ok: false; error: NodeJS.ErrnoException };

function handshake(options: ConnectionOptions, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = connect(options);
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ ok: false, error: Object.assign(new Error('no TLS handshake within the time limit'), { code: 'ETIMEDOUT' }) });
    }, timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      resolve({ ok: true, socket });
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ ok: false, error });
    });
  });
}

/**
 * Waits briefly after a TLS 1.3 handshake: a server that refuses the client's certificate says so only then, with an
 * alert or by closing the connection (we have sent nothing it could answer or time out on).
 */
function laterRefusal(socket: TLSSocket, ms: number): Promise<NodeJS.ErrnoException | 'closed' | undefined> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (outcome: NodeJS.ErrnoException | 'closed' | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => done(undefined), ms);
    socket.once('error', (err: NodeJS.ErrnoException) => done(err));
    socket.once('end', () => done('closed'));
    socket.once('close', () => done('closed'));
  });
}

function explain(err: NodeJS.ErrnoException, address: string, name: string, tls: TLSConfig): string {
  const text = `${err.code ?? ''} ${err.message}`;
  if (/WRONG_VERSION_NUMBER|wrong version number|packet length too long|unknown protocol/i.test(text)) {
    return `The server at ${address} does not speak TLS: check the address, or connect without TLS (unset the TEMPORAL_TLS* settings or set ${ENV.tls}=false).`;
  }
  if (/ALTNAME|Hostname\/IP does not match/i.test(text)) {
    return `The server's certificate is not issued for ${name} (${err.message}): set ${ENV.serverName} to a name the certificate carries.`;
  }
  if (/CERT_HAS_EXPIRED/.test(text)) return `The server's certificate has expired (${err.message}).`;
  if (/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_GET_ISSUER_CERT/.test(text)) {
    return tls.serverRootCACertificate
      ? `The server's certificate is not issued by the CA in ${ENV.serverCaCertPath} (${err.message}).`
      : `The server's certificate is not issued by a CA this system trusts (${err.message}): set ${ENV.serverCaCertPath} to the CA that issued it.`;
  }
  if (/certificate required|alert handshake failure/i.test(text) && !tls.clientCertPair) {
    return `The server requires a client certificate (mTLS): set ${ENV.clientCertPath} and ${ENV.clientKeyPath}.`;
  }
  if (/alert (bad certificate|unknown ca|certificate unknown|certificate revoked|certificate expired|access denied)/i.test(text)) {
    return `The server refused the client certificate in ${ENV.clientCertPath} (${err.message}): is it issued by a CA the server trusts?`;
  }
  if (err.code === 'ECONNREFUSED' || err.code === 'ETIMEDOUT' || err.code === 'ENOTFOUND' || err.code === 'EHOSTUNREACH') {
    return `Nothing accepts TLS connections at ${address} (${err.message}): check TEMPORAL_ADDRESS.`;
  }
  return `The TLS handshake with ${address} failed: ${err.message}.`;
}

/**
 * What a TLS handshake with the server shows about a failed connection, or undefined when it shows nothing (the
 * handshake works as configured, or the server is not reachable at all).
 */
export async function diagnoseTls(address: string, tls: TLSConfig | false, timeoutMs = 5000): Promise<string | undefined> {
  const { host, port } = splitAddress(address);
  // An IP address is not a valid SNI name; the certificate is then checked against the IP itself.
  const sni = tls !== false && tls.serverNameOverride !== undefined ? tls.serverNameOverride : isIP(host) ? undefined : host;
  const base: ConnectionOptions = { host, port, ALPNProtocols: ['h2'], ...(sni !== undefined && { servername: sni }) };
  if (tls === false) {
    const probe = await handshake({ ...base, rejectUnauthorized: false }, timeoutMs);
    if (!probe.ok) return undefined;
    probe.socket.destroy();
    return (
      `The server at ${address} answers with TLS, but this process connects without it: set ${ENV.tls}=true ` +
      `(and ${ENV.serverCaCertPath} for a private CA; for mTLS also ${ENV.clientCertPath} and ${ENV.clientKeyPath}).`
    );
  }
  const options: ConnectionOptions = {
    ...base,
    ...(tls.serverRootCACertificate && { ca: Buffer.from(tls.serverRootCACertificate) }),
    ...(tls.clientCertPair && { cert: Buffer.from(tls.clientCertPair.crt), key: Buffer.from(tls.clientCertPair.key) }),
    // Node checks the certificate against `servername` when it is set, else against the host.
  };
  const probe = await handshake(options, timeoutMs);
  const name = sni ?? host;
  if (!probe.ok) return explain(probe.error, address, name, tls);
  const refusal = await laterRefusal(probe.socket, 500);
  if (refusal === undefined) return undefined;
  if (refusal !== 'closed' && !/ECONNRESET/.test(refusal.code ?? '')) return explain(refusal, address, name, tls);
  return tls.clientCertPair
    ? `The server closed the connection right after the TLS handshake: it refused the client certificate in ${ENV.clientCertPath} (is it issued by a CA the server trusts?).`
    : `The server closed the connection right after the TLS handshake; if it requires a client certificate (mTLS), set ${ENV.clientCertPath} and ${ENV.clientKeyPath}.`;
}
