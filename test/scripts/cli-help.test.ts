/** Every command-line entry point answers --help with its usage, and a wrong flag without a stack trace. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);

const ENTRY_POINTS: Record<string, string[]> = {
  'scripts/load.sh': ['bash', 'scripts/load.sh'],
  'scripts/compare.sh': ['bash', 'scripts/compare.sh'],
  'scripts/soak.sh': ['bash', 'scripts/soak.sh'],
  'npm run train': ['npm', 'run', '-s', 'train', '--'],
  'npm run eval': ['npm', 'run', '-s', 'eval', '--'],
  'npm run fixtures': ['npm', 'run', '-s', 'fixtures', '--'],
  'npm run candidates': ['npm', 'run', '-s', 'candidates', '--'],
  'npm run bench': ['npm', 'run', '-s', 'bench', '--'],
  'npm run bench:healthchecks': ['npm', 'run', '-s', 'bench:healthchecks', '--'],
};

describe('command-line entry points', () => {
  for (const [name, [command, ...args]] of Object.entries(ENTRY_POINTS)) {
    it(`${name} --help prints its usage and exits 0`, async () => {
      const { stdout } = await run(command!, [...args, '--help']);
      assert.match(stdout, /^Usage: /);
      assert.match(stdout, /--help/);
    });

    it(`${name} refuses an unknown flag with exit 2, the reason and the usage`, async () => {
      const failed = await run(command!, [...args, '--no-such-flag']).then(
        () => assert.fail('an unknown flag was accepted'),
        (err: { code: number; stderr: string }) => err,
      );
      assert.equal(failed.code, 2);
      assert.match(failed.stderr, /no-such-flag/);
      assert.match(failed.stderr, /Usage: /);
      assert.doesNotMatch(failed.stderr, /\n\s+at /, 'no stack trace');
    });
  }
});
