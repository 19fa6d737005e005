/**
 * The import boundaries (eslint.config.js) hold: the service imports no development-time code, and
 * everything else reaches the service only through its public entry. Checked with the project's
 * own ESLint configuration on code that crosses each boundary.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ESLint } from 'eslint';

const eslint = new ESLint();

async function restrictedImports(filePath: string, specifier: string): Promise<string[]> {
  const code = `import { x } from '${specifier}';\nexport const y = x;\n`;
  const [result] = await eslint.lintText(code, { filePath });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('import boundaries', () => {
  it('refuse development-time code inside service/src', async () => {
    for (const specifier of [
      '../../../devkit/encode.ts',
      '../../training/trainer.ts',
      '../../../scripts/load/options.ts',
      '../../test/support/raw-http.ts',
    ]) {
      const messages = await restrictedImports('service/src/imaging/probe.ts', specifier);
      assert.equal(messages.length, 1, `${specifier} is refused`);
      assert.match(messages[0]!, /imports nothing outside itself/);
    }
  });

  it('let service/src import its own modules', async () => {
    assert.deepEqual(await restrictedImports('service/src/imaging/probe.ts', '../mnist.ts'), []);
  });

  it('refuse deep imports of the service from scripts, devkit, training and system tests', async () => {
    for (const [file, specifier] of [
      ['scripts/bench/probe.ts', '../../service/src/engine/engine.ts'],
      ['devkit/probe.ts', '../service/src/replica.ts'],
      ['training/probe.ts', '../service/src/mnist.ts'],
      ['test/compose/probe.ts', '../../service/src/config.ts'],
    ] as const) {
      const messages = await restrictedImports(file, specifier);
      assert.equal(messages.length, 1, `${file} importing ${specifier} is refused`);
      assert.match(messages[0]!, /public entry/);
    }
  });

  it('let them import the public entry', async () => {
    assert.deepEqual(await restrictedImports('scripts/bench/probe.ts', '../../service/src/index.ts'), []);
  });
});
