import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** PEM file paths of a throwaway PKI: a CA, a server certificate and a client certificate it issued. */
export interface TestPki {
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
}

function openssl(dir: string, ...args: string[]): void {
  try {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === 'ENOENT') throw new Error('these tests make their certificates with openssl, which is not installed');
    throw new Error(`openssl ${args.join(' ')} failed: ${e.stderr?.toString() ?? e.message}`);
  }
}

/**
 * Makes a CA named `name` in `dir` and, issued by it, a server certificate for `serverName` (a DNS name only, so a
 * client that dials an IP address must name it) and a client certificate for mTLS. EC P-256 keys, valid one day,
 * with the extensions rustls (the Rust core) requires: CA basic constraints, subjectAltName, extended key usage.
 */
export function makeTestPki(dir: string, name: string, serverName: string): TestPki {
  const f = (suffix: string) => join(dir, `${name}-${suffix}`);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(dir, 'req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '1', '-subj', `/CN=${name} test CA`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  const issue = (who: string, subject: string, extensions: string) => {
    writeFileSync(f(`${who}.ext`), extensions);
    openssl(dir, 'req', ...ec, '-keyout', f(`${who}.key`), '-out', f(`${who}.csr`), '-subj', subject);
    openssl(dir, 'x509', '-req', '-in', f(`${who}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial',
      '-out', f(`${who}.pem`), '-days', '1', '-extfile', f(`${who}.ext`));
  };
  issue('server', `/CN=${serverName}`, `subjectAltName=DNS:${serverName}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`);
  issue('client', '/CN=sptar-worker', 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n');
  return { caCert: f('ca.pem'), serverCert: f('server.pem'), serverKey: f('server.key'), clientCert: f('client.pem'), clientKey: f('client.key') };
}
