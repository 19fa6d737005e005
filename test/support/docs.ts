/** The commands the README and docs/ give, so tests run them as written. */
import { readFileSync } from 'node:fs';

/** The shell commands of a page's ```sh blocks, continuation lines joined. */
export function shellCommands(page: string): string[] {
  const blocks = [...readFileSync(page, 'utf8').matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return blocks
    .flatMap((block) => block.replaceAll('\\\n', ' ').split('\n'))
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
}

/** A documented command's words, its comment dropped (no quoting: the commands tested have none). */
export const words = (command: string): string[] => command.replace(/\s+#.*/, '').split(/\s+/);
