/**
 * The GitHub Actions workflow (it cannot run here): valid for GitHub, checked with GitHub's own
 * workflow parser, and made only of the repository's scripts that .ci/run runs too, so that the two
 * CIs cannot drift apart; Dependabot's configuration covers every place a version is pinned.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import { parse as parseYaml } from 'yaml';

const WORKFLOW = '.github/workflows/ci.yml';

async function steps(content: string) {
  const parsed = parseWorkflow({ name: WORKFLOW, content }, new NoOperationTraceWriter());
  const errors = parsed.context.errors.getErrors().map((e) => e.message);
  if (errors.length > 0 || !parsed.value) return { errors, steps: [] };
  const template = await convertWorkflowTemplate(parsed.context, parsed.value);
  // Each step as plain strings (the parser gives tokens, whose JSON form is their text).
  const jobSteps = template.jobs.flatMap((job) => ('steps' in job ? job.steps : []));
  return { errors, steps: JSON.parse(JSON.stringify(jobSteps)) as { run?: string; uses?: string }[] };
}

describe('the GitHub Actions workflow', () => {
  const content = readFileSync(WORKFLOW, 'utf8');

  it("passes GitHub's workflow parser, which refuses what GitHub would", async () => {
    assert.deepEqual((await steps(content)).errors, []);
    const broken = await steps(content.replace('runs-on:', 'runs_on:'));
    assert.ok(broken.errors.length > 0, 'a misspelt key is refused');
  });

  it('runs only repository scripts that .ci/run runs too, tier 1 and the compose tier among them', async () => {
    const ciRun = readFileSync('.ci/run', 'utf8');
    const commands = (await steps(content)).steps.flatMap((s) => (s.run ? [s.run.trim()] : []));
    assert.ok(commands.includes('sudo -E env "PATH=$PATH" npm test'), 'tier 1');
    assert.ok(
      commands.some((c) => c.endsWith('npm run test:compose')),
      'the compose tier',
    );
    for (const command of commands) {
      assert.doesNotMatch(command, /\n/, `one command a step: ${command}`);
      const bare = command.replace(/^sudo (-E )?(env "PATH=\$PATH" )?/, '');
      assert.ok(ciRun.includes(bare), `.ci/run does not run: ${bare}`);
    }
  });

  it('uploads the dashboard screenshots the compose tier takes', async () => {
    const upload = (await steps(content)).steps.find((s) => s.uses?.startsWith('actions/upload-artifact@'));
    assert.ok(upload, 'an upload step');
    assert.match(content, /GRAFANA_SCREENSHOTS: \$\{\{ github\.workspace \}\}\/artifacts\/dashboards/);
    assert.match(content, /path: artifacts\/dashboards/);
  });
});

describe('Dependabot', () => {
  it('updates npm packages, the Dockerfile, the compose images and the actions', () => {
    const config = parseYaml(readFileSync('.github/dependabot.yml', 'utf8')) as {
      version: number;
      updates: { 'package-ecosystem': string; directory: string; schedule: { interval: string } }[];
    };
    assert.equal(config.version, 2);
    const ecosystems = config.updates.map((u) => u['package-ecosystem']).sort();
    assert.deepEqual(ecosystems, ['docker', 'docker-compose', 'github-actions', 'npm']);
    for (const update of config.updates) {
      assert.ok(existsSync(`.${update.directory}`), `${update['package-ecosystem']}: ${update.directory}`);
      assert.ok(['daily', 'weekly', 'monthly'].includes(update.schedule.interval));
    }
  });
});
