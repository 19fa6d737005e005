/**
 * Where each test of a node:test file starts, by its full name ("suite > test", as node:test's
 * `fullName`): the position of its `it(...)` or `test(...)` call, 0-based. StrykerJS's incremental
 * mode takes a test to span from there to the next test's start, so that a change to one test
 * retries only the mutants that test reached, not every mutant of its file.
 *
 * A name built at run time matches its call by shape: a template's `${...}` and a name that is not
 * written out (a variable) match any text. A name that matches no call, or more than one, has no
 * position, and StrykerJS then takes the test to span its whole file.
 *
 * Positions are read from the sandbox's copy, so stryker.config.json sets `disableTypeChecks`
 * off: the `// @ts-nocheck` line StrykerJS would add (useless here: tsx checks no types) shifts a
 * file's lines by one or two, and StrykerJS corrects by one.
 */
import ts from 'typescript';

export interface Position {
  line: number;
  column: number;
}

const SUITES = new Set(['describe', 'suite']);
const TESTS = new Set(['it', 'test']);
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A call's name as a pattern: its text, with `.*` for what is known only at run time. */
function namePattern(argument: ts.Expression | undefined): string {
  if (argument && ts.isStringLiteralLike(argument)) return escapeRegExp(argument.text);
  if (argument && ts.isTemplateExpression(argument)) {
    return [argument.head.text, ...argument.templateSpans.map((span) => span.literal.text)]
      .map(escapeRegExp)
      .join('.*');
  }
  return '.*';
}

export function testPositions(source: string, fileName = 'test.ts'): (fullName: string) => Position | undefined {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const calls: { pattern: RegExp; position: Position }[] = [];
  const visit = (node: ts.Node, suites: string[]): void => {
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression)) {
      const callee = node.expression.text;
      const path = [...suites, namePattern(node.arguments[0])];
      if (TESTS.has(callee)) {
        const { line, character } = file.getLineAndCharacterOfPosition(node.getStart(file));
        calls.push({ pattern: new RegExp(`^${path.join(' > ')}$`, 's'), position: { line, column: character } });
      }
      if (SUITES.has(callee) || TESTS.has(callee)) {
        node.arguments.forEach((argument) => visit(argument, path));
        return;
      }
    }
    ts.forEachChild(node, (child) => visit(child, suites));
  };
  visit(file, []);
  return (fullName) => {
    const matching = calls.filter(({ pattern }) => pattern.test(fullName));
    return matching.length === 1 ? matching[0]!.position : undefined;
  };
}
