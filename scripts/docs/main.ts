/**
 * `npm run docs` writes the reference pages under docs/reference/ from the code; `--check` only
 * reports (exit 1) the pages whose committed text differs from what the code generates.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCli } from '../../devkit/cli.ts';
import { referencePages } from './references.ts';

const DOCS = fileURLToPath(new URL('../../docs/', import.meta.url));

const USAGE = `Usage: npm run docs [-- --check]

Writes docs/reference/errors.md, configuration.md, metrics.md and openapi.json from the error
catalogue, the configuration schema, the metrics registry and the OpenAPI document, and the replica
settings of .env.example from the configuration schema.

  --check   write nothing; exit 1 when a page is stale
  --help    this text
`;

/** The pages under `docs` whose text differs from `pages`. */
export function stalePages(pages: Record<string, string>, docs = DOCS): string[] {
  return Object.entries(pages)
    .filter(([path, text]) => {
      try {
        return readFileSync(docs + path, 'utf8') !== text;
      } catch {
        return true;
      }
    })
    .map(([path]) => path);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { check } = parseCli(USAGE, { check: { type: 'boolean', default: false } });
  const pages = await referencePages();
  const stale = stalePages(pages);
  if (check) {
    for (const path of stale) console.error(`docs/${path} is stale: run npm run docs`);
    if (stale.length > 0) process.exit(1);
    console.log('reference pages are up to date');
  } else {
    for (const path of stale) {
      mkdirSync(dirname(DOCS + path), { recursive: true });
      writeFileSync(DOCS + path, pages[path]!);
    }
    console.log(`wrote ${stale.length} reference page(s)`);
  }
}
