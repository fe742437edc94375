import type { Server } from 'node:net';

/**
 * Starts `server` on a free loopback port: its host:port, and a close that first runs `drop` (to destroy the
 * connections it holds, which would otherwise keep the server open) and resolves once the server has closed.
 */
export function listenOnLoopback(server: Server, drop: () => void): Promise<{ address: string; close: () => Promise<void> }> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({
        address: `127.0.0.1:${port}`,
        close: () =>
          new Promise<void>((done) => {
            drop();
            server.close(() => done());
          }),
      });
    });
  });
}
