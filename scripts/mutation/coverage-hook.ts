// Preloaded (--import, Node.js's own type stripping: it loads before tsx) into every process and
// thread of a mutation dry run: writes which mutants the code it ran reached (Stryker's
// instrumented code counts them in globalThis.__stryker__) to a file of its own, now and then and
// at exit, so that replicas a test kills still leave theirs.
//
// Hits are counted under the name of the test running at the time. The test file's process names
// it (node:test's hooks) and writes it where the processes and threads it starts read it every few
// milliseconds, so that what a replica process does for a test is counted under that test too.
// What module loading and `before` hooks reach is counted under no name (the whole file).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'node:test';
import { threadId } from 'node:worker_threads';

interface StrykerGlobal {
  currentTestId?: string;
  mutantCoverage?: unknown;
}

const realSetTimeout = globalThis.setTimeout;
const dir = process.env.MUTATION_COVERAGE_DIR;
if (dir) {
  const global = globalThis as { __stryker__?: StrykerGlobal };
  const stryker = (global.__stryker__ ??= {});
  const current = join(dir, 'current-test');
  if (process.env.MUTATION_TEST_PROCESS && threadId === 0) {
    delete process.env.MUTATION_TEST_PROCESS; // the processes the tests start follow, they do not name
    const name = (test: string | undefined) => {
      stryker.currentTestId = test;
      writeFileSync(current, test ?? '');
    };
    // The processes following the name read it every 5 ms: a test starts, and ends, only once they
    // have had time to, so that none counts a hit under the test before or after it.
    // The timer is taken now: tests that mock the clock (node:test's mock.timers) replace the global.
    const settle = () => new Promise((resolve) => realSetTimeout(resolve, 25));
    beforeEach(async (t) => {
      name(t.fullName);
      await settle();
    });
    afterEach(async () => {
      await settle();
      name(undefined);
    });
  } else {
    const follow = () => {
      try {
        stryker.currentTestId = readFileSync(current, 'utf8') || undefined;
      } catch {
        stryker.currentTestId = undefined; // no test has started yet
      }
    };
    follow();
    setInterval(follow, 5).unref();
  }
  const file = join(dir, `${process.pid}-${threadId}.json`);
  const write = () => {
    if (stryker.mutantCoverage) writeFileSync(file, JSON.stringify(stryker.mutantCoverage));
  };
  setInterval(write, 500).unref();
  process.on('exit', write);
}
