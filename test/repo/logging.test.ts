/** Every container of the compose cluster and of the Swarm stack keeps a bounded log. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';

interface Service {
  logging?: { driver?: string; options?: Record<string, string> };
}

describe('container logs', () => {
  for (const file of ['compose.yaml', 'swarm/stack.yaml']) {
    it(`rotate in every service of ${file}, by size and count`, () => {
      const { services } = parseYaml(readFileSync(file, 'utf8'), { merge: true }) as {
        services: Record<string, Service>;
      };
      for (const [name, service] of Object.entries(services)) {
        const { driver, options = {} } = service.logging ?? {};
        assert.ok(driver === 'local' || driver === 'json-file', `${name}: log driver ${driver}`);
        assert.match(options['max-size'] ?? '', /^\d+[km]$/, `${name}: max-size`);
        assert.match(String(options['max-file'] ?? ''), /^\d+$/, `${name}: max-file`);
      }
    });
  }
});
