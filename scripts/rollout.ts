/**
 * `npm run rollout -- <version>`: asks compose's rollout controller to roll a model version out at
 * the entry point, then follows it step by step until it is promoted or rolled back. Prints one
 * line per step and, last, one JSON line; exits 0 when promoted, 1 when rolled back.
 */
import { fail, parseCli } from '../devkit/cli.ts';

const USAGE = `Usage: npm run rollout -- <version> [--stable V] [--url URL]
       npm run rollout -- --status | --abort

Rolls <version> out over the stable one at the entry point, share by share (ROLLOUT_STEPS),
judging each share on the replicas' figures, and follows it to its end (docs/model.md).

  --stable V   the version it is compared with and replaces (default: the entry point's stable
               version, else the replicas' default)
  --status     print the rollout's state and exit
  --abort      roll the running rollout back at once
  --url URL    the controller (default http://127.0.0.1:$ROLLOUT_PORT, 9106)
  --help       this text
`;
// The version comes first, the options after it.
const args = process.argv.slice(2);
const version = args[0]?.startsWith('-') ? undefined : args.shift();
const values = parseCli(
  USAGE,
  {
    stable: { type: 'string', default: '' },
    status: { type: 'boolean', default: false },
    abort: { type: 'boolean', default: false },
    url: { type: 'string', default: `http://127.0.0.1:${process.env.ROLLOUT_PORT || '9106'}` },
  },
  args,
);

interface Step {
  at: string;
  share: number;
  decision: string;
  reason: string;
}
interface State {
  phase: string;
  stable?: string;
  candidate?: string;
  share: number;
  history: Step[];
}

async function call(method: string, path: string): Promise<State> {
  const res = await fetch(`${values.url}${path}`, { method }).catch((err: Error) =>
    fail(USAGE, `the rollout controller at ${values.url} did not answer (${err.message}); is the cluster up?`),
  );
  const body = (await res.json()) as State & { error?: string };
  if (!res.ok) {
    console.error(`refused: ${body.error ?? res.status}`);
    process.exit(2);
  }
  return body;
}

const line = (s: Step) => `${s.at}  ${s.decision.padEnd(11)} ${String(s.share).padStart(3)}%  ${s.reason}`;

if (values.status || values.abort) {
  const state = await call(values.abort ? 'DELETE' : 'GET', '/rollout');
  for (const step of state.history) console.log(line(step));
  console.log(JSON.stringify(state));
  process.exit(0);
}
if (!version) fail(USAGE, 'name the version to roll out');
let state = await call(
  'POST',
  `/rollout/${encodeURIComponent(version)}${values.stable ? `?stable=${encodeURIComponent(values.stable)}` : ''}`,
);
let printed = 0;
for (;;) {
  for (const step of state.history.slice(printed)) console.log(line(step));
  printed = state.history.length;
  if (state.phase !== 'running') break;
  await new Promise((r) => setTimeout(r, 1000));
  state = await call('GET', '/rollout');
}
console.log(
  JSON.stringify({
    rollout: state.candidate,
    stable: state.stable,
    phase: state.phase,
    steps: state.history.map(({ share, decision, reason }) => ({ share, decision, reason })),
  }),
);
process.exit(state.phase === 'promoted' ? 0 : 1);
