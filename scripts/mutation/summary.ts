/**
 * `npm run mutation:summary`: the mutation score per module (service/src/<module>/) from the JSON
 * report of `npm run mutation` (or several, from runs over one module each), as a Markdown table,
 * and every surviving mutant by file and line.
 */
import { readFileSync } from 'node:fs';
import { parseCli } from '../../devkit/cli.ts';

const USAGE = `Usage: npm run mutation:summary [-- --report FILE ...]

Prints the mutation score per module of the last npm run mutation, and its surviving mutants.

  --report FILE   a JSON report to read, repeatable (default reports/mutation/mutation.json)
  --help          this text
`;

interface ReportMutant {
  mutatorName: string;
  replacement?: string;
  status: string;
  statusReason?: string;
  location: { start: { line: number } };
}
interface Report {
  files: Record<string, { mutants: ReportMutant[] }>;
}

/** Killed and timed-out mutants are detected; survivors and mutants no test reaches are not. */
const DETECTED = new Set(['Killed', 'Timeout']);
const UNDETECTED = new Set(['Survived', 'NoCoverage']);

export interface ModuleScore {
  module: string;
  detected: number;
  undetected: number;
  ignored: number;
  score: number;
}

const moduleOf = (file: string) => /service\/src\/([^/]+)\//.exec(file)?.[1] ?? file;

export function scores(report: Report): ModuleScore[] {
  const byModule = new Map<string, ModuleScore>();
  const total: ModuleScore = { module: 'all', detected: 0, undetected: 0, ignored: 0, score: 0 };
  for (const [file, { mutants }] of Object.entries(report.files)) {
    const module = moduleOf(file);
    const row = byModule.get(module) ?? { module, detected: 0, undetected: 0, ignored: 0, score: 0 };
    byModule.set(module, row);
    for (const m of mutants) {
      for (const r of [row, total]) {
        if (DETECTED.has(m.status)) r.detected++;
        else if (UNDETECTED.has(m.status)) r.undetected++;
        else if (m.status === 'Ignored') r.ignored++;
      }
    }
  }
  const rows = [...[...byModule.values()].sort((a, b) => a.module.localeCompare(b.module)), total];
  for (const r of rows) r.score = r.detected / Math.max(1, r.detected + r.undetected);
  return rows;
}

export function survivors(report: Report): string[] {
  return Object.entries(report.files).flatMap(([file, { mutants }]) =>
    mutants
      .filter((m) => UNDETECTED.has(m.status))
      .map((m) => `${file}:${m.location.start.line} ${m.mutatorName} ${m.status}: ${m.replacement ?? ''}`),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { report: paths } = parseCli(USAGE, {
    report: { type: 'string', multiple: true, default: ['reports/mutation/mutation.json'] },
  });
  const reports = paths.map((path) => JSON.parse(readFileSync(path, 'utf8')) as Report);
  const report: Report = { files: Object.assign({}, ...reports.map((r) => r.files)) };
  console.log('| module | detected | survived | ignored (equivalent) | score |\n| --- | --- | --- | --- | --- |');
  for (const r of scores(report))
    console.log(`| ${r.module} | ${r.detected} | ${r.undetected} | ${r.ignored} | ${(100 * r.score).toFixed(1)}% |`);
  const left = survivors(report);
  console.log(`\n${left.length} surviving mutant(s)${left.length ? ':' : ''}`);
  for (const line of left) console.log(`- ${line.replace(/\s+/g, ' ')}`);
}
