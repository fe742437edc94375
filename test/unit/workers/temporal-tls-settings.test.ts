// Temporal connection security from the environment: when TLS is on, which options reach the SDK, and the errors for
// certificate files that are missing, unreadable, not PEM or do not fit together. Certificates are made with openssl.
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadSettings } from '../../../workers/settings.ts';
import { temporalConnectionOptions } from '../../../workers/temporal-connection.ts';
import { splitAddress } from '../../../workers/temporal-tls-diagnosis.ts';
import { readTlsConfig } from '../../../workers/temporal-tls.ts';
import { makeTestPki, type TestPki } from '../../support/test-certificates.ts';

describe('Temporal TLS settings', () => {
  let dir: string;
  let pki: TestPki;
  let other: TestPki;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sptar-tls-unit-'));
    pki = makeTestPki(dir, 'main', 'temporal.sptar.test');
    other = makeTestPki(dir, 'other', 'temporal.sptar.test');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is plaintext without any TLS variable', () => {
    const s = loadSettings({});
    assert.equal(s.temporalTls, undefined);
    assert.equal(s.temporalApiKey, undefined);
    assert.deepEqual(temporalConnectionOptions(s), { address: '127.0.0.1:7233', tls: false });
  });

  it('turns TLS on for TEMPORAL_TLS=true, any TLS path or name, or an API key; empty values count as unset', () => {
    assert.deepEqual(loadSettings({ TEMPORAL_TLS: 'true' }).temporalTls, {});
    assert.deepEqual(loadSettings({ TEMPORAL_TLS_SERVER_NAME: 'temporal.sptar.test' }).temporalTls, { serverName: 'temporal.sptar.test' });
    assert.deepEqual(loadSettings({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: 'certs/ca.pem' }).temporalTls, { serverCaCertPath: resolve('certs/ca.pem') });
    const cloud = loadSettings({ TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233', TEMPORAL_API_KEY: 'key-1' });
    assert.deepEqual(temporalConnectionOptions(cloud), { address: 'ns.acct.tmprl.cloud:7233', tls: {}, apiKey: 'key-1' });
    const empty = loadSettings({ TEMPORAL_TLS: '', TEMPORAL_TLS_SERVER_CA_CERT_PATH: '', TEMPORAL_API_KEY: '', TEMPORAL_TLS_SERVER_NAME: '' });
    assert.deepEqual(temporalConnectionOptions(empty), { address: '127.0.0.1:7233', tls: false });
  });

  it('with TEMPORAL_TLS=false sends an API key over plaintext, and refuses certificate settings', () => {
    const s = loadSettings({ TEMPORAL_TLS: 'false', TEMPORAL_API_KEY: 'key-1' });
    assert.deepEqual(temporalConnectionOptions(s), { address: '127.0.0.1:7233', tls: false, apiKey: 'key-1' });
    assert.throws(
      () => loadSettings({ TEMPORAL_TLS: 'false', TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.caCert }),
      /TEMPORAL_TLS=false contradicts TEMPORAL_TLS_SERVER_CA_CERT_PATH/,
    );
    assert.throws(() => loadSettings({ TEMPORAL_TLS: 'yes' }), /invalid environment settings: TEMPORAL_TLS/);
  });

  it('wants the client certificate and key together', () => {
    assert.throws(() => loadSettings({ TEMPORAL_TLS_CLIENT_CERT_PATH: pki.clientCert }), /TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH go together/);
    assert.throws(() => loadSettings({ TEMPORAL_TLS_CLIENT_KEY_PATH: pki.clientKey }), /set both or neither/);
  });

  it('passes the CA, the client certificate pair and the server name to the SDK', () => {
    const s = loadSettings({
      TEMPORAL_ADDRESS: '10.1.2.3:7233',
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.caCert,
      TEMPORAL_TLS_CLIENT_CERT_PATH: pki.clientCert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: pki.clientKey,
      TEMPORAL_TLS_SERVER_NAME: 'temporal.sptar.test',
    });
    const { tls } = temporalConnectionOptions(s);
    assert.ok(tls);
    assert.equal(tls.serverNameOverride, 'temporal.sptar.test');
    assert.deepEqual(tls.serverRootCACertificate, readFileSync(pki.caCert));
    assert.deepEqual(tls.clientCertPair, { crt: readFileSync(pki.clientCert), key: readFileSync(pki.clientKey) });
  });

  it('names the variable and the path of a CA file that is missing, a directory, unreadable or not a certificate', (t) => {
    const missing = join(dir, 'nope', 'ca.pem');
    assert.throws(() => readTlsConfig({ serverCaCertPath: missing }), { message: `cannot read TEMPORAL_TLS_SERVER_CA_CERT_PATH=${missing}: no such file` });
    mkdirSync(join(dir, 'a-dir'));
    assert.throws(() => readTlsConfig({ serverCaCertPath: join(dir, 'a-dir') }), /TEMPORAL_TLS_SERVER_CA_CERT_PATH=.*a-dir: it is a directory/);
    writeFileSync(join(dir, 'junk.pem'), 'not a certificate\n');
    assert.throws(() => readTlsConfig({ serverCaCertPath: join(dir, 'junk.pem') }), /TEMPORAL_TLS_SERVER_CA_CERT_PATH=.*junk\.pem is not a PEM certificate/);
    assert.throws(() => readTlsConfig({ serverCaCertPath: pki.caCert, clientCertPath: pki.clientKey, clientKeyPath: pki.clientKey }), /TEMPORAL_TLS_CLIENT_CERT_PATH=.* is not a PEM certificate/);
    if (process.getuid?.() === 0) {
      t.diagnostic('running as root, which reads any file: the permission case is not checked');
      return;
    }
    const locked = join(dir, 'locked.pem');
    copyFileSync(pki.caCert, locked);
    chmodSync(locked, 0o000);
    assert.throws(() => readTlsConfig({ serverCaCertPath: locked }), { message: `cannot read TEMPORAL_TLS_SERVER_CA_CERT_PATH=${locked}: permission denied` });
  });

  it('refuses a key that is not the client certificate\'s, a key that is not PEM, and an expired client certificate', () => {
    assert.throws(
      () => readTlsConfig({ clientCertPath: pki.clientCert, clientKeyPath: other.clientKey }),
      /the key in TEMPORAL_TLS_CLIENT_KEY_PATH=.*other-client\.key does not belong to the certificate in TEMPORAL_TLS_CLIENT_CERT_PATH=.*main-client\.pem/,
    );
    assert.throws(() => readTlsConfig({ clientCertPath: pki.clientCert, clientKeyPath: pki.caCert }), /TEMPORAL_TLS_CLIENT_KEY_PATH=.* is not an unencrypted PEM private key/);
    const inThreeDays = new Date(Date.now() + 3 * 24 * 3600 * 1000);
    assert.throws(() => readTlsConfig({ clientCertPath: pki.clientCert, clientKeyPath: pki.clientKey }, inThreeDays), /client certificate .* expired on/);
  });

  it('reads host and port from TEMPORAL_ADDRESS forms', () => {
    assert.deepEqual(splitAddress('127.0.0.1:17233'), { host: '127.0.0.1', port: 17233 });
    assert.deepEqual(splitAddress('[::1]:7233'), { host: '::1', port: 7233 });
    assert.deepEqual(splitAddress('ns.acct.tmprl.cloud'), { host: 'ns.acct.tmprl.cloud', port: 7233 });
  });
});
