/**
 * The monitoring's basic-auth credentials, written once before Prometheus, Alertmanager and the
 * balancer start (compose's `monitoring-credentials`): MONITORING_PASSWORD when set, else one
 * generated on the first run and kept, so that a restart neither prints nor applies a new one.
 * Beside the password, each reader's form of it: a bcrypt hash for Prometheus's and Alertmanager's
 * `--web.config.file` and for HAProxy's userlist (libcrypt checks bcrypt), and the Authorization
 * header the containers' health checks send.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { fail, parseCli } from '../../devkit/cli.ts';
import { basicAuthorization } from '../../devkit/basic-auth.ts';

const USAGE = `Usage: credentials.ts --out DIR [--user NAME]

Writes, in DIR: password (the password), web.yml (Prometheus's and Alertmanager's web
configuration), haproxy-userlist.cfg (the balancer's stats page) and authorization (the header).
The password is MONITORING_PASSWORD when set; else one generated on the first run and kept.

  --out DIR     where the monitoring containers read them
  --user NAME   the user name (default: admin)
`;
const values = parseCli(USAGE, {
  out: { type: 'string', default: '' },
  user: { type: 'string', default: 'admin' },
});
if (!values.out) fail(USAGE, '--out is required');
if (!/^[a-z][a-z0-9_-]{0,31}$/.test(values.user)) fail(USAGE, '--user must be a short lower-case name');

/** bcrypt's work factor: a guess costs about as much as Prometheus's documentation advises. */
const COST = 10;
const files = {
  password: join(values.out, 'password'),
  web: join(values.out, 'web.yml'),
  userlist: join(values.out, 'haproxy-userlist.cfg'),
  authorization: join(values.out, 'authorization'),
};
mkdirSync(values.out, { recursive: true });
const kept = existsSync(files.password) ? readFileSync(files.password, 'utf8') : '';
const given = process.env.MONITORING_PASSWORD ?? '';
// One line of printable ASCII: the files below hold it unquoted or as base64, and bcrypt reads
// at most 72 bytes.
if (given && !/^[\x21-\x7e]{12,72}$/.test(given)) {
  fail(USAGE, 'MONITORING_PASSWORD must be 12 to 72 printable characters, without spaces');
}
const password = given || kept || randomBytes(18).toString('base64url');

if (password !== kept || !Object.values(files).every((file) => existsSync(file))) {
  const hash = bcrypt.hashSync(password, COST);
  // Readable by each monitoring container's own user (nobody, grafana, haproxy); the volume is
  // mounted into those only. Replaced, not rewritten: a kept file is read-only.
  const write = (file: string, text: string) => {
    rmSync(file, { force: true });
    writeFileSync(file, text, { mode: 0o444 });
  };
  write(files.password, password);
  write(files.web, `# Written by scripts/monitoring/credentials.ts.\nbasic_auth_users:\n  ${values.user}: '${hash}'\n`);
  write(files.userlist, `userlist monitoring\n  user ${values.user} password ${hash}\n`);
  write(files.authorization, basicAuthorization(values.user, password));
}

if (given) console.log(`monitoring credentials: user ${values.user}, MONITORING_PASSWORD`);
else if (kept) console.log(`monitoring credentials: user ${values.user}, the password generated on the first start`);
else console.log(`generated monitoring credentials: user ${values.user}, password ${password}`);
