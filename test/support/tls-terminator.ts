import { readFileSync } from 'node:fs';
import { connect as connectTcp, type Socket } from 'node:net';
import { createServer, type TLSSocket } from 'node:tls';
import { splitAddress } from '../../workers/temporal-tls-diagnosis.ts';
import { listenOnLoopback } from './loopback-listen.ts';

/** A listening TLS terminator and what it has seen. */
export interface TlsTerminator {
  readonly address: string;
  /** Connections whose TLS handshake succeeded (with a client certificate the CA issued, when one is required). */
  readonly handshakes: () => number;
  readonly close: () => Promise<void>;
}

export interface TlsTerminatorOptions {
  /** host:port of the plaintext gRPC server behind it. */
  readonly upstream: string;
  readonly cert: string;
  readonly key: string;
  /** When set, a client certificate issued by this CA is required (mTLS). */
  readonly clientCa?: string;
}

/**
 * TLS in front of a plaintext server, as a load balancer or sidecar terminates it in front of a Temporal frontend:
 * the handshake (ALPN h2, and the client certificate when required) happens here, and the decrypted bytes go on
 * unchanged to the upstream server, which answers every RPC itself.
 */
export async function startTlsTerminator(options: TlsTerminatorOptions): Promise<TlsTerminator> {
  const upstream = splitAddress(options.upstream);
  const sockets = new Set<Socket>();
  let handshakes = 0;
  const server = createServer(
    {
      cert: readFileSync(options.cert),
      key: readFileSync(options.key),
      ALPNProtocols: ['h2'],
      ...(options.clientCa !== undefined && { ca: readFileSync(options.clientCa), requestCert: true, rejectUnauthorized: true }),
    },
    (client: TLSSocket) => {
      handshakes++;
      const backend = connectTcp(upstream.port, upstream.host);
      sockets.add(client).add(backend);
      client.pipe(backend).pipe(client);
      const drop = () => {
        client.destroy();
        backend.destroy();
        sockets.delete(client);
        sockets.delete(backend);
      };
      client.on('error', drop).on('close', drop);
      backend.on('error', drop).on('close', drop);
    },
  );
  // A refused handshake is what some tests provoke; the client reports it.
  server.on('tlsClientError', () => undefined);
  const listening = await listenOnLoopback(server, () => {
    for (const s of sockets) s.destroy();
  });
  return { ...listening, handshakes: () => handshakes };
}
