/**
 * The node:test runner for StrykerJS (scripts/mutation/node-test-runner.ts) on a project of one
 * module: a mutant a named test catches is killed by that test, a mutant reached only in a process
 * the test starts is killed too (the hook follows it there), and a mutant no test can tell apart
 * from the original survives, so that `npm run mutation`'s score means what it says. And an
 * incremental run after one test changed retries only the mutants that test reached.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { testPositions } from '../../scripts/mutation/test-positions.ts';

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
  coveredBy?: string[];
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
        disableTypeChecks: false,
        mutate: ['src/**/*.ts'],
        nodeTest: { testFiles: ['test/*.test.ts'] },
        reporters: ['json'],
        incremental: true,
        jsonReporter: { fileName: 'mutation.json' },
        concurrency: 1,
        dryRunTimeoutMinutes: 1,
        tempDirName: '.stryker-tmp',
      }),
    );
    const report = runStryker(dir).report;
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

  it('retries, after one test changed, only the mutants that test reached', () => {
    // The first run's results, the incremental file beside them.
    const first = readReport(dir);
    const names = new Map(Object.values(first.testFiles).flatMap((f) => f.tests.map((t) => [t.id, t.name])));
    const mutants = first.files['src/lib.ts']!.mutants;
    const reachedByGreeting = mutants.filter((m) =>
      m.coveredBy!.every((id) => names.get(id)!.endsWith('greets from another process')),
    ).length;
    assert.ok(reachedByGreeting > 0 && reachedByGreeting < mutants.length, `${reachedByGreeting}`);
    // Lines added above every test, and the greeting test's own code changed.
    const changed = TESTS.replace(
      "import { it } from 'node:test';",
      "import { it } from 'node:test';\n// moved down\n",
    ).replace("assert.equal(out, 'hello ada');", "assert.equal(out, 'hello ' + 'ada');");
    writeFileSync(join(dir, 'test/lib.test.ts'), changed);
    const { stdout, report } = runStryker(dir);
    const [, reused, total] = /(\d+) of (\d+) mutant result\(s\) are reused/.exec(stdout) ?? [];
    assert.equal(Number(total), mutants.length, stdout);
    assert.equal(Number(reused), mutants.length - reachedByGreeting, stdout);
    const verdicts = (all: Mutant[]) => all.map((m) => `${m.replacement} ${m.status}`).sort();
    assert.deepEqual(verdicts(report.files['src/lib.ts']!.mutants), verdicts(mutants), 'the same verdicts');
  });
});

interface Report {
  files: Record<string, { mutants: Mutant[] }>;
  testFiles: Record<string, { tests: { id: string; name: string }[] }>;
}

function runStryker(dir: string): { stdout: string; report: Report } {
  const run = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'node_modules/@stryker-mutator/core/bin/stryker.js'), 'run'],
    { cwd: dir, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } },
  );
  assert.equal(run.status, 0, run.stdout + run.stderr);
  return { stdout: run.stdout, report: readReport(dir) };
}

const readReport = (dir: string) => JSON.parse(readFileSync(join(dir, 'mutation.json'), 'utf8')) as Report;

describe('where each test starts', () => {
  const source = [
    "describe('suite', () => {",
    "  it('a test', () => {});",
    '  for (const n of [1, 2]) {',
    '    it(`test ${n} of two`, () => {});',
    '  }',
    '  describe(`inner ${1}`, () => {',
    '    test(name(), () => {});',
    '  });',
    '});',
    "it('a test', () => {});",
  ].join('\n');
  const at = testPositions(source);

  it('finds each test by its full name, one written out or built at run time', () => {
    assert.deepEqual(at('suite > a test'), { line: 1, column: 2 });
    assert.deepEqual(at('a test'), { line: 9, column: 0 });
    assert.deepEqual(at('suite > test 2 of two'), { line: 3, column: 4 });
    assert.deepEqual(at('suite > inner 1 > anything at all'), { line: 6, column: 4 });
  });

  it('gives no position to a name that matches no call, or several', () => {
    assert.equal(at('suite > nothing like it'), undefined);
    assert.equal(at('another suite > a test'), undefined);
    const twice = testPositions('it(`a ${1}`, () => {});\nit(`${2} b`, () => {});');
    assert.equal(twice('a b'), undefined);
    assert.deepEqual(twice('a c'), { line: 0, column: 0 });
  });
});
