/**
 * Every `Stryker disable` mark in service/src takes effect and says why. StrykerJS reads a mark
 * only where Babel (its parser) attaches the comment as the leading comment of a node, and applies
 * it to the mutants on that node's line: a comment before `else` or `} catch` leads no node and is
 * ignored without a word, so its mutant would be counted as a survivor nobody explained.
 */
import assert from 'node:assert/strict';
import { globSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from '@babel/parser';

const MARK = /^\s?Stryker disable/;

/** The marks of a TypeScript source that lead no node, by line, and those without a reason. */
function strayMarks(source: string): { unattached: number[]; unexplained: number[] } {
  const ast = parse(source, { sourceType: 'module', plugins: ['typescript'] });
  const leading = new Set<number>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (node === null || typeof node !== 'object') return;
    const { leadingComments } = node as { leadingComments?: { start: number }[] };
    for (const comment of leadingComments ?? []) leading.add(comment.start);
    for (const [key, value] of Object.entries(node)) if (!key.endsWith('Comments') && key !== 'loc') visit(value);
  };
  visit(ast.program);
  const marks = (ast.comments ?? []).filter((comment) => MARK.test(comment.value));
  return {
    unattached: marks.filter((mark) => !leading.has(mark.start!)).map((mark) => mark.loc!.start.line),
    unexplained: marks.filter((mark) => !/:\s*\S/.test(mark.value)).map((mark) => mark.loc!.start.line),
  };
}

describe('mutation marks', () => {
  it('tells a mark that leads no node, or gives no reason', () => {
    const source = [
      'function f(a: number) {',
      '  if (a) g();',
      '  // Stryker disable next-line EqualityOperator: ignored before else',
      '  else if (a < 1) g();',
      '  // Stryker disable next-line EqualityOperator',
      '  return a > 1;',
      '}',
    ].join('\n');
    assert.deepEqual(strayMarks(source), { unattached: [3], unexplained: [5] });
  });

  it('every mark in service/src leads a node and says why', () => {
    const files = globSync('service/src/**/*.ts').filter((file) => readFileSync(file, 'utf8').includes('Stryker'));
    assert.ok(files.length >= 10, `${files.length} files with marks`);
    for (const file of files) {
      assert.deepEqual(strayMarks(readFileSync(file, 'utf8')), { unattached: [], unexplained: [] }, file);
    }
  });
});
