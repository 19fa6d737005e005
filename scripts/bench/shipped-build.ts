/**
 * The service as its container runs it: compiled by tsc with the Dockerfile's command and run by
 * plain node, not through tsx (whose transform wraps closures in name-keeping helpers and so costs
 * the hot path something the image does not pay).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_MODEL_DIR } from '../../service/src/index.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ShippedBuild {
  /** Node arguments that start a replica from the build, the image's runtime flags first. */
  command: string[];
  /** The image's node runtime flags (garbage collector settings), for anything run beside it. */
  nodeFlags: string[];
  /** Absolute path of the compiled service's public entry (index.js). */
  entry: string;
  modelDir: string;
  /** The environment the image sets, and the model directory it ships. */
  env: Record<string, string>;
}

/** The flags of the image's `CMD ["node", ...flags, "service/src/main.js"]`. */
function imageNodeFlags(root: string): string[] {
  const cmds = [...readFileSync(`${root}Dockerfile`, 'utf8').matchAll(/^CMD (\[.*\])\s*$/gm)];
  const args = JSON.parse(cmds.at(-1)?.[1] ?? '[]') as string[];
  if (args[0] !== 'node' || args.at(-1) !== 'service/src/main.js') {
    throw new Error(`the Dockerfile's last CMD is not ["node", ..., "service/src/main.js"]: ${JSON.stringify(args)}`);
  }
  return args.slice(1, -1);
}

/** The service of the working tree (or of the tree at `root`, with its own Dockerfile and model), built. */
export function buildService(root = ROOT): ShippedBuild {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  // The drawing page's script, where the compiled service looks for it (as in the image).
  const web = ['-p', 'service/web', '--outDir', 'dist/service/web/build'];
  execFileSync(process.execPath, [tsc, ...web], { cwd: root, stdio: 'inherit' });
  // The image has package.json two levels above service/src (version.ts reads it); so does dist/.
  copyFileSync(`${root}package.json`, `${root}dist/package.json`);
  const src = `${root}dist/service/src/`;
  const modelDir = join(root, relative(ROOT, DEFAULT_MODEL_DIR));
  const nodeFlags = imageNodeFlags(root);
  return {
    command: [...nodeFlags, `${src}main.js`],
    nodeFlags,
    entry: `${src}index.js`,
    modelDir,
    env: { NODE_ENV: 'production', MODEL_DIR: modelDir },
  };
}

/**
 * The service as it was at git revision `ref`, built in a directory of its own with this tree's
 * node_modules (for the bench's --compare-build: the dependencies it runs on must be the same).
 */
export function buildServiceAt(ref: string): ShippedBuild {
  const dir = mkdtempSync(join(tmpdir(), 'mnist-build-'));
  // Kept while the replicas built from it run, removed with this process.
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  execFileSync('sh', ['-c', 'git archive "$1" | tar -x -C "$2"', 'sh', ref, dir], { cwd: ROOT, stdio: 'inherit' });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return buildService(`${dir}/`);
}
