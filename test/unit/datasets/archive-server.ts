// A loopback HTTP server for dataset fetch tests: serves archives from memory under /<mode>/<file> and counts every
// request. It listens on 127.0.0.1 only, on a port the system picks, and the test closes it.
//   /ok/...         200 with Content-Length and the whole file
//   /truncated/...  Content-Length of the whole file, then the first half and the connection closed
//   /short/...      no Content-Length (chunked), the first half, and a clean end: a short file that "finished"
//   /stall/...      headers never sent: a server that went quiet (closed when the server closes)
//   anything else   404
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ArchiveServer {
  /** `http://127.0.0.1:<port>/<mode>`: a base URL for SPTAR_DATASET_BASE_URL. */
  readonly baseUrl: (mode: 'ok' | 'truncated' | 'short' | 'stall' | 'missing') => string;
  /** Paths requested so far, in order. */
  readonly requests: string[];
  readonly close: () => Promise<void>;
}

export async function startArchiveServer(files: ReadonlyMap<string, Buffer>): Promise<ArchiveServer> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const url = req.url ?? '/';
    requests.push(url);
    const [, mode, name] = url.split('/');
    const body = name === undefined ? undefined : files.get(name);
    if (mode === 'stall') return;
    if (!body || (mode !== 'ok' && mode !== 'truncated' && mode !== 'short')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not here');
      return;
    }
    const half = body.subarray(0, Math.floor(body.length / 2));
    if (mode === 'ok') {
      res.writeHead(200, { 'content-type': 'application/zip', 'content-length': body.length }).end(body);
    } else if (mode === 'short') {
      res.writeHead(200, { 'content-type': 'application/zip' });
      res.end(half);
    } else {
      res.writeHead(200, { 'content-type': 'application/zip', 'content-length': body.length });
      res.write(half, () => req.socket.end());
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: (mode) => `http://127.0.0.1:${port}/${mode}`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/** A loopback port nothing listens on (bound, then released): connecting to it is refused. */
export async function refusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
