// Workers polling the real dev server for the length of a test file, and a client beside them.
import { Client, Connection } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { connectClient, connectWorker } from '../../workers/temporal-connection.ts';
import { serviceSettings } from './services.ts';

export interface LiveWorkers {
  readonly client: Client;
  readonly connection: Connection;
  readonly nativeConnection: NativeConnection;
  /** Shuts the workers down, waits for them, and closes both connections. */
  stop(): Promise<void>;
}

/** Connects, creates the workers with `create`, and runs them until `stop()`. */
export async function startWorkers(create: (nativeConnection: NativeConnection) => Promise<Worker[]>): Promise<LiveWorkers> {
  const settings = serviceSettings();
  const nativeConnection = await connectWorker(settings);
  const connection = await connectClient(settings);
  const client = new Client({ connection, namespace: settings.namespace });
  const workers = await create(nativeConnection);
  const running = Promise.all(workers.map((w) => w.run()));
  return {
    client,
    connection,
    nativeConnection,
    async stop() {
      for (const w of workers) w.shutdown();
      await running;
      await connection.close();
      await nativeConnection.close();
    },
  };
}
