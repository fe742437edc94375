// The published default S3 credentials are refused for a store off this machine.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { DEFAULT_S3_WORKER_CREDENTIALS, isLoopbackHost } from '../../../workers/s3-default-credentials.ts';
import { loadSettings } from '../../../workers/settings.ts';

const refused = (err: Error) =>
  /is not on this machine/.test(err.message) && err.message.includes('SPTAR_S3_ACCESS_KEY') && err.message.includes('SPTAR_S3_SECRET_KEY');

describe('default S3 credentials', () => {
  it('are the workers\' user, not the root account, and the same in infra/env.sh', () => {
    const s = loadSettings({}).store;
    assert.equal(s.kind, 's3');
    if (s.kind !== 's3') return;
    assert.deepEqual({ accessKey: s.accessKey, secretKey: s.secretKey }, { accessKey: 'sptar-worker', secretKey: 'sptar-worker-secret' });
    const envSh = readFileSync(new URL('../../../infra/env.sh', import.meta.url), 'utf8');
    assert.match(envSh, new RegExp(`SPTAR_S3_ACCESS_KEY="\\$\\{SPTAR_S3_ACCESS_KEY:-${DEFAULT_S3_WORKER_CREDENTIALS.accessKey}\\}"`));
    assert.match(envSh, new RegExp(`SPTAR_S3_SECRET_KEY="\\$\\{SPTAR_S3_SECRET_KEY:-${DEFAULT_S3_WORKER_CREDENTIALS.secretKey}\\}"`));
  });

  it('are accepted for loopback endpoints', () => {
    for (const endpoint of ['http://127.0.0.1:9000', 'http://127.8.9.10:9000', 'http://localhost:9000', 'https://LOCALHOST./', 'http://[::1]:9000', 'http://[::ffff:127.0.0.1]:9000']) {
      const s = loadSettings({ SPTAR_S3_ENDPOINT: endpoint }).store;
      assert.equal(s.kind === 's3' && s.endpoint, endpoint);
    }
  });

  it('are refused for any other endpoint, with the variables to set', () => {
    for (const endpoint of ['http://10.0.0.5:9000', 'https://s3.example.com', 'http://0.0.0.0:9000', 'http://128.0.0.1:9000', 'http://localhost.example.com:9000', 'http://[::2]:9000']) {
      assert.throws(() => loadSettings({ SPTAR_S3_ENDPOINT: endpoint }), refused, endpoint);
    }
  });

  it('are refused off loopback also when only the secret is a published one (the root account\'s, the tests\')', () => {
    for (const secret of ['sptar-worker-secret', 'sptar-admin-secret', 'sptar-test-secret']) {
      assert.throws(() => loadSettings({ SPTAR_S3_ENDPOINT: 'https://s3.example.com', SPTAR_S3_ACCESS_KEY: 'someone', SPTAR_S3_SECRET_KEY: secret }), refused);
    }
  });

  it('give way to credentials of the store\'s own, and do not matter for the local store', () => {
    const s = loadSettings({ SPTAR_S3_ENDPOINT: 'https://s3.example.com', SPTAR_S3_ACCESS_KEY: 'pipeline', SPTAR_S3_SECRET_KEY: 'a-long-random-secret' }).store;
    assert.equal(s.kind === 's3' && s.accessKey, 'pipeline');
    assert.equal(loadSettings({ SPTAR_STORE: 'local', SPTAR_S3_ENDPOINT: 'https://s3.example.com' }).store.kind, 'local');
  });

  it('loopback means 127.0.0.0/8, ::1 and localhost only', () => {
    assert.deepEqual(
      ['127.0.0.1', '127.255.255.254', 'localhost', '[::1]', '::1', '[::ffff:7f00:1]'].map(isLoopbackHost),
      [true, true, true, true, true, true],
    );
    assert.deepEqual(['126.0.0.1', '0.0.0.0', '::', 'example.com', 'localhost.localdomain', '[::ffff:a00:1]'].map(isLoopbackHost), [false, false, false, false, false, false]);
  });
});
