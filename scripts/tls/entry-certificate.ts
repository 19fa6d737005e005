/**
 * The entry point's TLS certificate, for HAProxy (one PEM: certificate then private key). Run once
 * before the balancer starts (compose's `lb-certificate`): an operator's own `<provided>/entry.pem`
 * wins and is copied in; without one, a self-signed certificate is generated on the first run and
 * kept, so that clients that trusted it keep trusting it. `--force` generates a new one.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { fail, parseCli } from '../../devkit/cli.ts';

const USAGE = `Usage: entry-certificate.ts --out DIR [--provided DIR] [--names a,b] [--force]

Writes DIR/entry.pem (certificate and key, as HAProxy reads them) and DIR/entry-ca.pem (the
certificate alone, for clients: curl --cacert). An entry.pem in --provided is copied as it is; else
a self-signed certificate for localhost, 127.0.0.1, ::1 and --names is generated
once and kept.

  --out DIR        where HAProxy reads the certificate
  --provided DIR   where an operator's own entry.pem may be (copied when present)
  --names LIST     more DNS names or addresses the self-signed certificate covers
  --force          generate a new self-signed certificate even if one is kept
`;
const values = parseCli(USAGE, {
  out: { type: 'string', default: '' },
  provided: { type: 'string', default: '' },
  names: { type: 'string', default: '' },
  force: { type: 'boolean', default: false },
});
if (!values.out) fail(USAGE, '--out is required');

const target = join(values.out, 'entry.pem');
const forClients = join(values.out, 'entry-ca.pem');
const provided = values.provided ? join(values.provided, 'entry.pem') : '';
const CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/;
mkdirSync(values.out, { recursive: true });

if (provided && existsSync(provided)) {
  const pem = readFileSync(provided, 'utf8');
  if (!CERTIFICATE.test(pem) || !/PRIVATE KEY-----/.test(pem)) {
    fail(USAGE, `${provided} must hold the certificate (and its chain) and the private key, in PEM`);
  }
  writeFileSync(target, pem, { mode: 0o644 });
  writeFileSync(forClients, pem.match(CERTIFICATE)![0], { mode: 0o644 });
  console.log(`the entry point's certificate: the one provided (${provided})`);
} else if (existsSync(target) && !values.force) {
  console.log(`the entry point's certificate: the one generated on the first start (${forClients})`);
} else {
  const names = ['localhost', ...values.names.split(',')].filter(Boolean);
  const ips = ['127.0.0.1', '::1'];
  const dns = [...new Set(names.filter((n) => !/^[\d.:]+$/.test(n)))];
  const pems = await generate([{ name: 'commonName', value: 'mnist-cluster entry point' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    // 825 days: the longest validity Apple's clients accept for a TLS server certificate.
    notAfterDate: new Date(Date.now() + 825 * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          ...dns.map((value) => ({ type: 2 as const, value })),
          ...[...ips, ...names.filter((n) => /^[\d.:]+$/.test(n))].map((ip) => ({ type: 7 as const, ip })),
        ],
      },
    ],
  });
  writeFileSync(target, `${pems.cert.trim()}\n${pems.private.trim()}\n`, { mode: 0o644 });
  writeFileSync(forClients, `${pems.cert.trim()}\n`, { mode: 0o644 });
  console.log(`the entry point's certificate: self-signed for ${[...dns, ...ips].join(', ')} (clients: ${forClients})`);
}
