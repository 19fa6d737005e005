/**
 * The node:test runner for StrykerJS (scripts/mutation/node-test-runner.ts) on a project of one
 * module: a mutant a named test catches is killed by that test, a mutant reached only in a process
 * the test starts is killed too (the hook follows it there), and a mutant no test can tell apart
 * from the original survives, so that `npm run mutation`'s score means what it says.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const MODULE = `
export function clamp(x: number, max: number): number {
  return x > max ? max : x;
}
export function greet(name: string): string {
  return 'hello ' + name;
}
`;

const TESTS = `
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { it } from 'node:test';
import { clamp } from '../src/lib.ts';

it('caps a value above the maximum', () => {
  assert.equal(clamp(5, 3), 3);
  assert.equal(clamp(1, 3), 1);
});

it('keeps working on a mocked clock', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  assert.equal(clamp(9, 9), 9);
});

it('greets from another process', () => {
  const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', "import('./src/lib.ts').then((m) => process.stdout.write(m.greet('ada')))"], { encoding: 'utf8' });
  assert.equal(out, 'hello ada');
});
`;

interface Mutant {
  mutatorName: string;
  replacement: string;
  status: string;
  killedBy?: string[];
}

describe('the node:test mutation runner', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mutation-runner-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('kills what a test catches, in the test process and in the processes it starts, and nothing else', () => {
    mkdirSync(join(dir, 'src'));
    mkdirSync(join(dir, 'test'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    writeFileSync(join(dir, 'src/lib.ts'), MODULE);
    writeFileSync(join(dir, 'test/lib.test.ts'), TESTS);
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    writeFileSync(
      join(dir, 'stryker.config.json'),
      JSON.stringify({
        plugins: [join(ROOT, 'scripts/mutation/node-test-runner.ts')],
        testRunner: 'node-test',
        testRunnerNodeArgs: ['--import', 'tsx'],
        coverageAnalysis: 'perTest',
        mutate: ['src/**/*.ts'],
        nodeTest: { testFiles: ['test/*.test.ts'] },
        reporters: ['json'],
        jsonReporter: { fileName: 'mutation.json' },
        concurrency: 1,
        dryRunTimeoutMinutes: 1,
        tempDirName: '.stryker-tmp',
      }),
    );
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'node_modules/@stryker-mutator/core/bin/stryker.js'), 'run'],
      { cwd: dir, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } },
    );
    assert.equal(run.status, 0, run.stdout + run.stderr);
    const report = JSON.parse(readFileSync(join(dir, 'mutation.json'), 'utf8')) as {
      files: Record<string, { mutants: Mutant[] }>;
      testFiles: Record<string, { tests: { id: string; name: string }[] }>;
    };
    const testName = new Map(Object.values(report.testFiles).flatMap((f) => f.tests.map((t) => [t.id, t.name])));
    const mutants = report.files['src/lib.ts']!.mutants;
    const find = (replacement: string) => {
      const found = mutants.find((m) => m.replacement.replace(/\s+/g, ' ') === replacement);
      assert.ok(found, `a mutant "${replacement}" among ${mutants.map((m) => m.replacement).join(' | ')}`);
      return found;
    };
    // Caught by the named tests that reach it, run alone (not the test of the other process).
    assert.deepEqual(
      find('x <= max').killedBy?.map((id) => testName.get(id)),
      ['test/lib.test.ts :: caps a value above the maximum', 'test/lib.test.ts :: keeps working on a mocked clock'],
    );
    // Reached only in the process the second test starts, and counted under that test's name.
    assert.deepEqual(
      find('""').killedBy?.map((id) => testName.get(id)),
      ['test/lib.test.ts :: greets from another process'],
    );
    // x >= max returns max when x equals max, which is x: no test can tell.
    assert.equal(find('x >= max').status, 'Survived');
    assert.ok(!mutants.some((m) => m.status === 'NoCoverage'), 'every mutant reached');
  });
});
