// Preloaded (--import, Node.js's own type stripping: it loads before tsx) into every process and thread of a mutation dry run: writes which mutants
// the code it ran reached (Stryker's instrumented code counts them in globalThis.__stryker__) to a
// file of its own, now and then and at exit, so that replicas a test kills still leave theirs.
// In the test file's own process it also names the running test, so that what a test reaches is
// counted under its name; what module loading, `before` hooks and other processes reach is counted
// under no name (the whole file).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'node:test';
import { threadId } from 'node:worker_threads';

interface StrykerGlobal {
  currentTestId?: string;
  mutantCoverage?: unknown;
}

const dir = process.env.MUTATION_COVERAGE_DIR;
if (dir) {
  const global = globalThis as { __stryker__?: StrykerGlobal };
  const stryker = (global.__stryker__ ??= {});
  if (process.env.MUTATION_TEST_PROCESS) {
    delete process.env.MUTATION_TEST_PROCESS; // not for the processes the tests start
    beforeEach((t) => (stryker.currentTestId = t.fullName));
    afterEach(() => (stryker.currentTestId = undefined));
  }
  const file = join(dir, `${process.pid}-${threadId}.json`);
  const write = () => {
    if (stryker.mutantCoverage) writeFileSync(file, JSON.stringify(stryker.mutantCoverage));
  };
  setInterval(write, 500).unref();
  process.on('exit', write);
}
