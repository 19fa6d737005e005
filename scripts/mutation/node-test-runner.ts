/**
 * A StrykerJS test runner for node:test: each test file runs in a process of its own, as
 * `npm test` runs it, and a mutant is tried on the tests that reach it, by name.
 *
 * The dry run runs each file with a coverage hook preloaded into it and into every process and
 * thread it starts (replica processes, decoder threads). What a test reaches while it runs, in any
 * of them, is counted under its name; what module loading and `before` hooks reach is counted
 * under the file's name. For each mutant Stryker then passes the names that reach it: named tests
 * run alone (--test-name-pattern), a file's name runs the whole file. The mutant is switched on
 * by environment variable, so it is active in the replica processes a test starts as well. Each
 * test's start in its file (test-positions.ts) lets an incremental run retry only what changed
 * tests reached.
 */
import { spawn } from 'node:child_process';
import { globSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { MutantCoverage, StrykerOptions } from '@stryker-mutator/api/core';
import type { Logger } from '@stryker-mutator/api/logging';
import { commonTokens, declareClassPlugin, PluginKind, tokens } from '@stryker-mutator/api/plugin';
import {
  DryRunStatus,
  MutantRunStatus,
  TestStatus,
  type DryRunOptions,
  type DryRunResult,
  type MutantRunOptions,
  type MutantRunResult,
  type TestResult,
  type TestRunner,
} from '@stryker-mutator/api/test-runner';
import { testPositions } from './test-positions.ts';

/** The `nodeTest` section of the Stryker configuration. */
interface NodeTestOptions {
  /** Globs of the test files, relative to the project. */
  testFiles: string[];
  /** Environment for every test process (e.g. fewer property-test runs). */
  env?: Record<string, string>;
}

/** The coverage hook's name for what is reached outside any test (it leaves the test unnamed). */
const WHOLE_FILE = '';
const SEPARATOR = ' :: ';
const testId = (file: string, name: string) => `${file}${SEPARATOR}${name}`;
function splitTestId(id: string): [file: string, name?: string] {
  const at = id.indexOf(SEPARATOR);
  return at < 0 ? [id] : [id.slice(0, at), id.slice(at + SEPARATOR.length)];
}
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** In the sandbox, which every runner process shares. */
const DURATIONS = '.node-test-durations.json';
const HOOK = pathToFileURL(join(import.meta.dirname, 'coverage-hook.ts')).href;

interface FileCoverage {
  ms: number;
  /** Mutant hit counts by test name; WHOLE_FILE for what was reached outside any test. */
  reached: Record<string, Record<string, number>>;
}

interface FileRun {
  passed: boolean;
  timedOut: boolean;
  /** How many tests ran (node:test's summary). */
  tests: number;
  ms: number;
  /** The first failing test's line of the spec reporter, for the report. */
  failure: string;
}

export class NodeTestRunner implements TestRunner {
  static inject = tokens(commonTokens.logger, commonTokens.options);
  private readonly settings: NodeTestOptions;
  private files: string[] = [];
  /**
   * Dry-run time per file, to try the quickest covering file first and to bound each run. The dry
   * run and the mutant runs happen in different runner processes: it goes through a file.
   */
  private durations = new Map<string, number>();

  private readonly log: Logger;

  constructor(log: Logger, options: StrykerOptions) {
    this.log = log;
    this.settings = (options as StrykerOptions & { nodeTest: NodeTestOptions }).nodeTest;
  }

  capabilities() {
    return { reloadEnvironment: true };
  }

  async init(): Promise<void> {
    this.files = [...new Set(this.settings.testFiles.flatMap((pattern) => globSync(pattern)))].sort();
    if (this.files.length === 0) throw new Error(`no test files match ${this.settings.testFiles.join(', ')}`);
  }

  async dryRun(options: DryRunOptions): Promise<DryRunResult> {
    const deadline = Date.now() + options.timeout;
    const results = new Map<string, FileCoverage | DryRunResult>();
    // Two files at a time: the dry run is one runner, and most files wait on their replicas.
    const queue = [...this.files];
    await Promise.all(
      [0, 1].map(async () => {
        for (let file = queue.shift(); file !== undefined; file = queue.shift())
          results.set(file, await this.coverageOf(file, deadline));
      }),
    );
    const tests: TestResult[] = [];
    const coverage: MutantCoverage = { static: {}, perTest: {} };
    for (const file of this.files) {
      const result = results.get(file)!;
      if ('status' in result) return result;
      this.durations.set(file, result.ms);
      const positions = testPositions(readFileSync(file, 'utf8'), file);
      for (const [name, mutants] of Object.entries(result.reached)) {
        const id = name === WHOLE_FILE ? file : testId(file, name);
        coverage.perTest[id] = mutants;
        // A named test alone still loads its file and runs its hooks: the file's time bounds it.
        // Where it starts lets an incremental run retry only what a changed test reached.
        const startPosition = name === WHOLE_FILE ? undefined : positions(name);
        tests.push({ id, name: id, fileName: file, startPosition, timeSpentMs: result.ms, status: TestStatus.Success });
      }
    }
    writeFileSync(DURATIONS, JSON.stringify(Object.fromEntries(this.durations)));
    return { status: DryRunStatus.Complete, tests, mutantCoverage: coverage };
  }

  /** One file's run with the coverage hook: what its tests reached, or why it could not run. */
  private async coverageOf(file: string, deadline: number): Promise<FileCoverage | DryRunResult> {
    const dir = mkdtempSync(join(tmpdir(), 'mutation-coverage-'));
    try {
      const run = await this.runFile(file, [], deadline - Date.now(), {
        MUTATION_COVERAGE_DIR: dir,
        MUTATION_TEST_PROCESS: '1',
        NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${HOOK}`.trim(),
      });
      if (run.timedOut) return { status: DryRunStatus.Timeout, reason: `${file} ran out of time` };
      if (!run.passed)
        return { status: DryRunStatus.Error, errorMessage: `${file} fails without mutants: ${run.failure}` };
      const reached = readCoverage(dir);
      const named = Object.keys(reached).filter((name) => name !== WHOLE_FILE).length;
      const outside = Object.keys(reached[WHOLE_FILE] ?? {}).length;
      this.log.info(`${file}: ${Math.round(run.ms)} ms, ${named} tests, ${outside} mutants reached outside a test`);
      return { ms: run.ms, reached };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  async mutantRun(options: MutantRunOptions): Promise<MutantRunResult> {
    if (this.durations.size === 0)
      this.durations = new Map(Object.entries(JSON.parse(readFileSync(DURATIONS, 'utf8')) as Record<string, number>));
    // Test ids by file: a file's own id means the whole file.
    const byFile = new Map<string, string[] | 'all'>();
    for (const id of options.testFilter ?? this.files) {
      const [file, name] = splitTestId(id);
      const known = byFile.get(file);
      if (name === undefined || known === 'all') byFile.set(file, 'all');
      else byFile.set(file, [...(known ?? []), name]);
    }
    // Likeliest to fail first: the tests of the mutated file itself (service/src/http/payload.ts ->
    // service/test/http/payload*.test.ts), then those of its area, then the rest; within each, named
    // tests (they reached the mutant while they ran) before whole files (only their loading or hooks
    // did), quickest first. A killed mutant stops at its first failing file. (Stryker names the
    // mutated file by its path in the project, not in the sandbox.)
    const [, area = '', module = ''] = /service\/src\/([^/]+)\/([^/]+)\.ts$/.exec(options.activeMutant.fileName) ?? [];
    const own = `service/test/${area}/${module}`;
    const distance = (file: string) =>
      area === '' ? 2 : file.startsWith(own) ? 0 : file.startsWith(`service/test/${area}/`) ? 1 : 2;
    const cost = ([file, names]: [string, string[] | 'all']) =>
      distance(file) * 1e9 + (names === 'all' ? 1e8 : 0) + (this.durations.get(file) ?? 0);
    const runs = [...byFile].sort((a, b) => cost(a) - cost(b));
    const deadline = Date.now() + options.timeout;
    const started = performance.now();
    let ran = 0;
    for (const [file, names] of runs) {
      const env = { __STRYKER_ACTIVE_MUTANT__: options.activeMutant.id };
      // A file gets twice what it took without mutants: a mutant that loops is stopped there.
      const budget = () => Math.min(deadline - Date.now(), 2 * (this.durations.get(file) ?? 0) + 5_000);
      let run = await this.runFile(file, names === 'all' ? [] : names, budget(), env);
      // A name no pattern matched (a test named at run time) is run with its whole file.
      if (run.passed && run.tests === 0 && names !== 'all') run = await this.runFile(file, [], budget(), env);
      ran += run.tests;
      if (run.timedOut) {
        this.log.info(`timed out: ${describeMutant(options.activeMutant)} in ${file} after ${Math.round(run.ms)} ms`);
        return { status: MutantRunStatus.Timeout, reason: `${file} ran out of time` };
      }
      if (!run.passed) {
        return {
          status: MutantRunStatus.Killed,
          // The tests ran together in one process: the report names them all.
          killedBy: names === 'all' ? [file] : names.map((name) => testId(file, name)),
          failureMessage: run.failure,
          nrOfTests: ran,
          duration: performance.now() - started,
        };
      }
    }
    this.log.info(`survived: ${describeMutant(options.activeMutant)}`);
    return { status: MutantRunStatus.Survived, nrOfTests: ran, duration: performance.now() - started };
  }

  /**
   * Runs one test file (only the tests named, when there are names) in its own process group,
   * killed whole when `budgetMs` runs out.
   */
  private runFile(file: string, names: string[], budgetMs: number, env: Record<string, string>): Promise<FileRun> {
    const started = performance.now();
    const patterns = names.map((name) => `--test-name-pattern=^${escapeRegExp(name.split(' > ').join(' '))}$`);
    const child = spawn(process.execPath, ['--import', 'tsx', ...patterns, file], {
      env: { ...process.env, ...this.settings.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-200_000)));
    child.stderr.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-200_000)));
    let timedOut = false;
    const timer = setTimeout(
      () => {
        timedOut = true;
        killGroup(child.pid);
      },
      Math.max(budgetMs, 1),
    );
    return new Promise((resolve) => {
      child.once('close', (code) => {
        clearTimeout(timer);
        killGroup(child.pid); // replicas or servers a failed test left behind
        const lines = output.split('\n');
        // The spec reporter lists each failure with its error after the summary.
        const summary = lines.findIndex((line) => line.includes('failing tests:'));
        const first = lines.findIndex((line, i) => i > summary && line.trimStart().startsWith('✖'));
        const failure = first < 0 ? output.slice(-1000) : lines.slice(first, first + 12).join('\n');
        const tests = Number(/ℹ tests (\d+)/.exec(output)?.[1] ?? 0);
        resolve({
          passed: code === 0 && !timedOut,
          timedOut,
          tests,
          ms: performance.now() - started,
          failure: failure.trim(),
        });
      });
    });
  }
}

function describeMutant({ fileName, location, mutatorName, replacement }: MutantRunOptions['activeMutant']): string {
  return `${fileName}:${location.start.line + 1} ${mutatorName} -> ${replacement.replace(/\s+/g, ' ').slice(0, 80)}`;
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // the group has already gone
  }
}

/** The mutants one file's processes and threads reached: per test name, and outside any test. */
function readCoverage(dir: string): Record<string, Record<string, number>> {
  const reached: Record<string, Record<string, number>> = {};
  const add = (test: string, counts: Record<string, number>) => {
    const into = (reached[test] ??= {});
    for (const [id, hits] of Object.entries(counts)) into[id] = (into[id] ?? 0) + hits;
  };
  for (const name of readdirSync(dir).filter((entry) => entry.endsWith('.json'))) {
    const coverage = JSON.parse(readFileSync(join(dir, name), 'utf8')) as MutantCoverage;
    add(WHOLE_FILE, coverage.static);
    for (const [test, counts] of Object.entries(coverage.perTest)) add(test, counts as Record<string, number>);
  }
  return reached;
}

export const strykerPlugins = [declareClassPlugin(PluginKind.TestRunner, 'node-test', NodeTestRunner)];

/** Lets Stryker check the `nodeTest` section of its configuration. */
export const strykerValidationSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  properties: {
    nodeTest: {
      type: 'object',
      required: ['testFiles'],
      additionalProperties: false,
      properties: {
        testFiles: { type: 'array', items: { type: 'string' }, minItems: 1 },
        env: { type: 'object', additionalProperties: { type: 'string' } },
      },
    },
  },
};
