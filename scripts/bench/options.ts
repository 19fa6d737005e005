/** Command-line options of `npm run bench`, parsed and checked once, and the comparisons they ask for. */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fail, parseCli } from '../../devkit/cli.ts';
import { DEFAULT_MODEL_DIR, readModelCard } from '../../service/src/index.ts';
import { buildServiceAt } from './shipped-build.ts';

export const USAGE = `Usage: npm run bench [-- options]

Builds the service as its image runs it, starts replicas (batching on and off), the in-process
limit and the plain node:http ceiling, each under a CPU quota of its own, and measures them with
one 28x28 PNG per request: a sweep over concurrency levels with multipart forms, then interleaved
slices at c=32 of multipart, raw and JSON requests and of the replica through the load balancer
(HTTP and HTTPS),
each ratio with its min-max spread. Needs root, a cgroup hierarchy with a cpu controller (v1 or v2) and haproxy. The last line printed is one JSON object.

  --seconds N        length of each sweep step (default 8)
  --concurrency L    comma-separated sweep levels (default 1,8,32,128)
  --cpus N           CPU quota of each process, in cores (default 1)
  --slices N         interleaved slices per process at c=32 (default 8)
  --compare-node BIN also run the batching replica on another Node.js binary (say an older
                     release's), in turns with this one in every slice: other_node_over_this_node
  --compare-build REF
                     also run the batching replica as built from git revision REF (say the last
                     release), in turns with this tree's in every slice: this_build_over_other_build
  --compare-model DIR
                     also run the batching replica on another model (say service/models/v1), in
                     turns with the default one in every slice: other_model_over_default_model
  --help             this text
`;
const values = parseCli(USAGE, {
  seconds: { type: 'string', default: '8' },
  concurrency: { type: 'string', default: '1,8,32,128' },
  cpus: { type: 'string', default: '1' },
  slices: { type: 'string', default: '8' },
  'compare-node': { type: 'string', default: '' },
  'compare-model': { type: 'string', default: '' },
  'compare-build': { type: 'string', default: '' },
});
const compareNode = values['compare-node'];
const compareModel = values['compare-model'];
const compareBuild = values['compare-build'];
/** The batching replica again, changed in one way, measured in turns with it in every slice. */
export interface Comparison {
  what: 'node' | 'model' | 'build';
  env: Record<string, string>;
  node?: string;
  /** Node's arguments, when it is another build. */
  command?: string[];
}
const otherBuild = compareBuild ? buildServiceAt(compareBuild) : undefined;
export const COMPARISONS: Comparison[] = [
  ...(compareNode ? [{ what: 'node' as const, env: {}, node: compareNode }] : []),
  ...(compareModel ? [{ what: 'model' as const, env: { MODEL_DIR: resolve(compareModel) } }] : []),
  ...(otherBuild ? [{ what: 'build' as const, env: otherBuild.env, command: otherBuild.command }] : []),
];
export const builds = compareBuild
  ? { other: compareBuild, this: execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim() }
  : undefined;
export type Compared = Comparison['what'];
/** Both models by name and version, read before anything starts: a wrong directory fails at once. */
const modelName = async (dir: string) => {
  const card = await readModelCard(dir);
  return `${card.name}@${card.version}`;
};
export const models = compareModel
  ? {
      this: await modelName(DEFAULT_MODEL_DIR),
      other: await modelName(resolve(compareModel)).catch((err: Error) =>
        fail(USAGE, `--compare-model must be a model directory: ${err.message}`),
      ),
    }
  : undefined;
export const nodes = compareNode
  ? { this: process.version, other: execFileSync(compareNode, ['--version'], { encoding: 'utf8' }).trim() }
  : undefined;
export const seconds = Number(values.seconds);
export const levels = values.concurrency.split(',').map(Number);
export const cpus = Number(values.cpus);
export const slices = Number(values.slices);
