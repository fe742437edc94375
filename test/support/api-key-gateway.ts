import { readFileSync } from 'node:fs';
import {
  connect as connectHttp2,
  constants,
  createSecureServer,
  type ClientHttp2Session,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import type { Socket } from 'node:net';
import { listenOnLoopback } from './loopback-listen.ts';

/** A listening API-key gateway and what it has seen. */
export interface ApiKeyGateway {
  readonly address: string;
  /** gRPC calls passed on to the server (their key matched), and calls refused, by request path. */
  readonly passed: () => readonly string[];
  readonly refused: () => readonly string[];
  readonly close: () => Promise<void>;
}

export interface ApiKeyGatewayOptions {
  /** host:port of the plaintext gRPC server behind it. */
  readonly upstream: string;
  readonly cert: string;
  readonly key: string;
  /** The one API key it accepts, as `authorization: Bearer <key>`. */
  readonly apiKey: string;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'http2-settings', 'host']);

/** Headers to pass on: the request pseudo-headers the upstream needs, none that belong to one connection. */
function forwarded(headers: IncomingHttpHeaders, keep: readonly string[]): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    if (name.startsWith(':') && !keep.includes(name)) continue;
    out[name] = value;
  }
  return out;
}

/**
 * A TLS endpoint that checks every gRPC call's API key, as Temporal Cloud's frontend does, and passes the calls
 * that carry the right one to a plaintext server: HTTP/2 is terminated here (each call's headers, body and trailers
 * are relayed), so a call without the key, or with another, gets gRPC status 16 (UNAUTHENTICATED) and never reaches
 * the server.
 */
export async function startApiKeyGateway(options: ApiKeyGatewayOptions): Promise<ApiKeyGateway> {
  const passed: string[] = [];
  const refused: string[] = [];
  const sockets = new Set<Socket>();
  let upstream: ClientHttp2Session | undefined;
  const session = (): ClientHttp2Session => {
    if (upstream === undefined || upstream.closed || upstream.destroyed) {
      upstream = connectHttp2(`http://${options.upstream}`);
      upstream.on('error', () => undefined); // a broken upstream fails the calls in flight, which report it
    }
    return upstream;
  };

  const server = createSecureServer({ cert: readFileSync(options.cert), key: readFileSync(options.key), allowHTTP1: false });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('tlsClientError', () => undefined);
  server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    const path = String(headers[':path']);
    stream.on('error', () => undefined);
    if (headers['authorization'] !== `Bearer ${options.apiKey}`) {
      refused.push(path);
      // A trailers-only gRPC response, as a gateway that refuses a call sends it.
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '16', 'grpc-message': 'API key missing or not valid' }, { endStream: true });
      return;
    }
    passed.push(path);
    const call = session().request(forwarded(headers, [':method', ':path', ':scheme', ':authority']));
    let trailers: OutgoingHttpHeaders = {};
    call.on('error', () => stream.close(constants.NGHTTP2_INTERNAL_ERROR));
    call.on('response', (responseHeaders, flags) => {
      const endsHere = (flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0;
      stream.respond(forwarded(responseHeaders, [':status']), endsHere ? { endStream: true } : { waitForTrailers: true });
      if (!endsHere) call.pipe(stream);
    });
    call.on('trailers', (t) => (trailers = forwarded(t, [])));
    stream.on('wantTrailers', () => stream.sendTrailers(trailers));
    stream.pipe(call);
    stream.on('close', () => {
      if (!call.closed) call.close(constants.NGHTTP2_CANCEL);
    });
  });

  const listening = await listenOnLoopback(server, () => {
    upstream?.destroy();
    for (const s of sockets) s.destroy();
  });
  return { ...listening, passed: () => passed, refused: () => refused };
}
