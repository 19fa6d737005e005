/**
 * Configuration reaches the containers: every user setting of a replica (the configuration schema
 * less what the deployment sets) is passed through by compose.yaml and swarm/stack.yaml under its
 * own name, and .env.example lists exactly the variables compose.yaml reads, its replica settings
 * generated from the schema.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { configSchema, userSettings } from '../../service/src/index.ts';
import { stalePages } from '../../scripts/docs/main.ts';
import { namedReplicas, SCALABLE_REPLICAS } from '../../devkit/compose-topology.ts';
import { renderEnvExample } from '../../scripts/docs/references.ts';

const composeText = readFileSync('compose.yaml', 'utf8');
const envExample = readFileSync('.env.example', 'utf8');
type Services = { services: Record<string, { environment?: Record<string, string> }> };
const compose = parseYaml(composeText, { merge: true }) as Services;
const stack = parseYaml(readFileSync('swarm/stack.yaml', 'utf8'), { merge: true }) as Services;

/** The environment keys that take `${KEY...}` from the environment of the same name. */
function passedThrough(env: Record<string, string> = {}): string[] {
  return Object.entries(env)
    .filter(([key, value]) => new RegExp(`^\\$\\{${key}(:?-[^}]*)?\\}$`).test(String(value)))
    .map(([key]) => key)
    .sort();
}

describe('configuration reaches the replicas', () => {
  const settings = userSettings().sort();

  const replicaServices = [...namedReplicas().map((r) => r.name), SCALABLE_REPLICAS];

  it('compose.yaml passes every user setting to every replica service, each under its own name', () => {
    assert.ok(settings.length >= 10);
    for (const service of replicaServices) {
      assert.deepEqual(passedThrough(compose.services[service]!.environment), settings, service);
    }
    for (const { name } of namedReplicas()) assert.equal(compose.services[name]!.environment!.REPLICA, name);
  });

  it('each replica service serves the model its own variable names, the default when it is empty', () => {
    const variables = replicaServices.map(
      (s) => /^\$\{([A-Z0-9_]+):-\}$/.exec(compose.services[s]!.environment!.MODEL_DIR!)?.[1],
    );
    assert.ok(variables.every(Boolean), JSON.stringify(variables));
    assert.equal(new Set(variables).size, replicaServices.length, 'one variable each');
    assert.equal(stack.services.mnist!.environment!.MODEL_DIR, '${MODEL_DIR:-}');
  });

  it('swarm/stack.yaml passes every user setting to every task', () => {
    const passed = passedThrough(stack.services.mnist!.environment);
    for (const name of settings) assert.ok(passed.includes(name), name);
  });

  it('.env.example lists exactly the variables compose.yaml reads', () => {
    const read = new Set([...composeText.matchAll(/\$\{([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1]!));
    const listed = new Set([...envExample.matchAll(/^#?([A-Z_][A-Z0-9_]*)=/gm)].map((m) => m[1]!));
    assert.deepEqual(
      [...read].filter((v) => !listed.has(v)),
      [],
      'read by compose.yaml, missing from .env.example',
    );
    assert.deepEqual(
      [...listed].filter((v) => !read.has(v)),
      [],
      'in .env.example, read by nothing',
    );
  });

  it('.env.example goes stale when a setting is added to the schema without regenerating', () => {
    const schema = configSchema.extend({ NEW_SETTING: z.coerce.number().default(7).describe('a new knob') });
    const rendered = renderEnvExample(envExample, composeText, schema);
    assert.match(rendered, /^# a new knob \(number\)\n#NEW_SETTING=7$/m);
    assert.deepEqual(stalePages({ '../.env.example': rendered }), ['../.env.example']);
    assert.equal(renderEnvExample(envExample, composeText), envExample, 'the committed file is current');
  });
});
