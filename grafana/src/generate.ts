/**
 * `npm run dashboards` writes grafana/dashboards/*.json from the specs in dashboards.ts;
 * `--check` only reports (exit 1) when a committed file differs from what the code generates.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildDashboard } from './builder.ts';
import { DASHBOARDS } from './dashboards.ts';

export const DASHBOARD_DIR = fileURLToPath(new URL('../dashboards/', import.meta.url));

export function renderDashboards(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(DASHBOARDS).map(([file, spec]) => [file, `${JSON.stringify(buildDashboard(spec), null, 2)}\n`]),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const [file, text] of Object.entries(renderDashboards())) {
    const path = `${DASHBOARD_DIR}${file}`;
    let current = '';
    try {
      current = readFileSync(path, 'utf8');
    } catch {
      // a new dashboard
    }
    if (current === text) continue;
    stale++;
    if (check) console.error(`${file} is stale: run npm run dashboards`);
    else writeFileSync(path, text);
  }
  if (check && stale > 0) process.exit(1);
  console.log(check ? 'dashboards are up to date' : `wrote ${stale} dashboard(s)`);
}
