// TLS, mTLS and API-key settings against the tests' real Temporal dev server. `temporal server start-dev` serves
// plaintext gRPC only (no TLS flag, no config file, and TLS is not dynamic config), so the TLS endpoint here is a TLS
// terminator in front of it, the way a load balancer fronts a frontend: the SDK's TLS code (the Rust core's for
// worker connections, grpc-js for client connections) does real handshakes with real certificates, and the dev
// server answers every RPC.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadSettings, type Settings } from '../../workers/settings.ts';
import { connectClient, connectWorker } from '../../workers/temporal-connection.ts';
import { serviceSettings } from '../support/services.ts';
import { makeTestPki, type TestPki } from '../support/test-certificates.ts';
import { startApiKeyGateway, type ApiKeyGateway } from '../support/api-key-gateway.ts';
import { startTlsTerminator, type TlsTerminator } from '../support/tls-terminator.ts';

const plain = serviceSettings();
const SERVER_NAME = 'temporal.sptar.test';
const API_KEY = 'sptar-test-api-key';
const TLS_VARIABLES = [
  'TEMPORAL_TLS',
  'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  'TEMPORAL_TLS_CLIENT_CERT_PATH',
  'TEMPORAL_TLS_CLIENT_KEY_PATH',
  'TEMPORAL_TLS_SERVER_NAME',
  'TEMPORAL_API_KEY',
];

/** The tests' settings with TEMPORAL_ADDRESS and the TLS variables replaced by `vars`. */
function settingsWith(vars: Record<string, string>): Settings {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const v of TLS_VARIABLES) delete env[v];
  return loadSettings({ ...env, ...vars });
}

/** Connects both ways the project does (client and worker connection), describes and lists the namespace. */
async function describeOverBothConnections(settings: Settings): Promise<void> {
  const client = await connectClient(settings);
  const worker = await connectWorker(settings);
  try {
    for (const service of [client.workflowService, worker.workflowService]) {
      const described = await service.describeNamespace({ namespace: settings.namespace });
      assert.equal(described.namespaceInfo?.name, settings.namespace);
      const listed = await service.listNamespaces({ pageSize: 100 });
      assert.ok(listed.namespaces.some((n) => n.namespaceInfo?.name === settings.namespace), 'the namespace is listed');
    }
  } finally {
    await client.close();
    await worker.close();
  }
}

describe('Temporal connections over TLS (TLS terminator in front of the dev server)', () => {
  let dir: string;
  let pki: TestPki;
  let other: TestPki;
  let tls: TlsTerminator;
  let mtls: TlsTerminator;
  let gateway: ApiKeyGateway;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sptar-tls-'));
    pki = makeTestPki(dir, 'sptar', SERVER_NAME);
    other = makeTestPki(dir, 'other', SERVER_NAME);
    tls = await startTlsTerminator({ upstream: plain.temporalAddress, cert: pki.serverCert, key: pki.serverKey });
    mtls = await startTlsTerminator({ upstream: plain.temporalAddress, cert: pki.serverCert, key: pki.serverKey, clientCa: pki.caCert });
    gateway = await startApiKeyGateway({ upstream: plain.temporalAddress, cert: pki.serverCert, key: pki.serverKey, apiKey: API_KEY });
  });
  after(async () => {
    await tls.close();
    await mtls.close();
    await gateway.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('connects with the CA and the server name, and describes and lists the namespace', async () => {
    const before = tls.handshakes();
    await describeOverBothConnections(
      settingsWith({ TEMPORAL_ADDRESS: tls.address, TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.caCert, TEMPORAL_TLS_SERVER_NAME: SERVER_NAME }),
    );
    assert.ok(tls.handshakes() >= before + 2, 'both connections went through TLS handshakes');
  });

  it('API key: every call of both connections carries it, and a server that checks keys refuses a missing or wrong one', async () => {
    const base = { TEMPORAL_ADDRESS: gateway.address, TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.caCert, TEMPORAL_TLS_SERVER_NAME: SERVER_NAME };
    await describeOverBothConnections(settingsWith({ ...base, TEMPORAL_API_KEY: API_KEY }));
    const described = gateway.passed().filter((p) => p.endsWith('/DescribeNamespace'));
    assert.equal(described.length, 2, 'both connections described the namespace through the key check');
    assert.deepEqual(gateway.refused(), [], 'no call went without the key');

    for (const vars of [base, { ...base, TEMPORAL_API_KEY: 'not-the-key' }]) {
      const settings = settingsWith(vars);
      const says = (err: Error) => {
        assert.match(err.message, new RegExp(`^Temporal at ${gateway.address} refused the credentials \\(.*API key missing or not valid.*\\)\\. Set TEMPORAL_API_KEY`));
        return true;
      };
      await assert.rejects(connectClient(settings), says);
      await assert.rejects(connectWorker(settings), says);
    }
    assert.ok(gateway.refused().length >= 4, `refused ${gateway.refused().length} calls`);
  });

  it('without TLS settings, fails and says the server answers with TLS', async () => {
    const settings = settingsWith({ TEMPORAL_ADDRESS: tls.address });
    const says = (err: Error) =>
      err.message.startsWith(`cannot reach Temporal at ${tls.address}`) && /answers with TLS.*set TEMPORAL_TLS=true/.test(err.message);
    await assert.rejects(connectWorker(settings), says);
    await assert.rejects(connectClient(settings), says);
  });

  it('refuses a server certificate that the configured CA did not issue', async () => {
    const settings = settingsWith({ TEMPORAL_ADDRESS: tls.address, TEMPORAL_TLS_SERVER_CA_CERT_PATH: other.caCert, TEMPORAL_TLS_SERVER_NAME: SERVER_NAME });
    await assert.rejects(connectWorker(settings), /not issued by the CA in TEMPORAL_TLS_SERVER_CA_CERT_PATH/);
  });

  it('checks the certificate against the address when no server name is set', async () => {
    const settings = settingsWith({ TEMPORAL_ADDRESS: tls.address, TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.caCert });
    await assert.rejects(connectWorker(settings), /not issued for 127\.0\.0\.1.*set TEMPORAL_TLS_SERVER_NAME/);
  });

  it('with TLS settings against the plaintext dev server, says it does not speak TLS', async () => {
    const settings = settingsWith({ TEMPORAL_ADDRESS: plain.temporalAddress, TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.caCert, TEMPORAL_TLS_SERVER_NAME: SERVER_NAME });
    await assert.rejects(connectWorker(settings), /does not speak TLS/);
  });

  it('mTLS: connects with the client certificate, and is refused without one or with one from another CA', async () => {
    const base = { TEMPORAL_ADDRESS: mtls.address, TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.caCert, TEMPORAL_TLS_SERVER_NAME: SERVER_NAME };
    await describeOverBothConnections(
      settingsWith({ ...base, TEMPORAL_TLS_CLIENT_CERT_PATH: pki.clientCert, TEMPORAL_TLS_CLIENT_KEY_PATH: pki.clientKey }),
    );
    await assert.rejects(connectWorker(settingsWith(base)), /requires a client certificate \(mTLS\): set TEMPORAL_TLS_CLIENT_CERT_PATH/);
    await assert.rejects(
      connectWorker(settingsWith({ ...base, TEMPORAL_TLS_CLIENT_CERT_PATH: other.clientCert, TEMPORAL_TLS_CLIENT_KEY_PATH: other.clientKey })),
      /refused the client certificate in TEMPORAL_TLS_CLIENT_CERT_PATH/,
    );
  });
});
