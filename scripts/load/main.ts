/** Entry point of scripts/load.sh: options, digits, the run, the summary, the exit status. */
import { runLoad } from '../../devkit/loadgen/driver.ts';
import { USAGE, UsageError, parseOptions } from './options.ts';
import { fixtureDigits, mnistDigits } from '../../devkit/loadgen/payloads.ts';
import { formatSummary } from '../../devkit/loadgen/tally.ts';

let options;
try {
  options = parseOptions(process.argv.slice(2));
} catch (err) {
  if (!(err instanceof UsageError) && !(err instanceof TypeError)) throw err;
  console.error(`${err.message}\n\n${USAGE}`);
  process.exit(2);
}
if (options === 'help') {
  console.log(USAGE);
  process.exit(0);
}

const digits = options.fixtures ? fixtureDigits(options.fixtures) : await mnistDigits(options.digits);
const { plan } = options;
const what = plan.rateAt ? `open loop, up to ${plan.concurrency} in flight` : `${plan.concurrency} concurrent`;
const until = [plan.durationSeconds && `${plan.durationSeconds} s`, plan.requests && `${plan.requests} requests`]
  .filter(Boolean)
  .join(' or ');
console.error(
  `load: ${plan.targets.join(', ')} (weights ${plan.weights.join('/')}), ${what}, for ${until}, ${digits.length} digits`,
);

// Interrupted (Ctrl-C, or SIGTERM from a test that is done with it): the requests in flight are
// answered and the summary printed as at the end of the duration; a second signal stops at once.
const interrupted = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => (interrupted.signal.aborted ? process.exit(130) : interrupted.abort()));
}
const summary = await runLoad({ ...plan, signal: interrupted.signal }, digits, (p) => {
  if (!options.quiet) {
    console.error(
      `  ${p.seconds.toFixed(0).padStart(4)} s  sent ${p.sent}  answered ${p.answered}  non-200 ${p.errors}  ${p.ratePerSecond} req/s`,
    );
  }
});
// With --json, stdout carries the JSON alone, for a pipe; the table goes to stderr.
if (options.json) {
  console.error(formatSummary(summary));
  console.log(JSON.stringify(summary));
} else console.log(formatSummary(summary));
if (summary.total.good_error_rate > options.maxErrorRate) {
  console.error(
    `good requests failed at ${(summary.total.good_error_rate * 100).toFixed(2)}%, above --max-error-rate ${options.maxErrorRate}`,
  );
  process.exit(1);
}
