/** `npm run slo` writes prometheus/rules/mnist-slo.yml from the objectives in prometheus/slo/slos.yaml. */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { renderSloRules, sloSpecSchema } from './rules.ts';

export const SLO_SPEC = fileURLToPath(new URL('slos.yaml', import.meta.url));
export const SLO_RULES = fileURLToPath(new URL('../rules/mnist-slo.yml', import.meta.url));

export const readSloSpec = (file = SLO_SPEC) => sloSpecSchema.parse(parse(readFileSync(file, 'utf8')));

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(SLO_RULES, renderSloRules(readSloSpec()));
  console.log('wrote prometheus/rules/mnist-slo.yml');
}
