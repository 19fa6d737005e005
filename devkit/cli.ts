/**
 * Argument parsing for the project's command-line entry points: node's parseArgs plus `--help`,
 * and a refused argument answered with its reason and the usage (exit 2), never a stack trace.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;
type Values<O extends Options> = ReturnType<typeof parseArgs<{ options: O; strict: true }>>['values'];

export function parseCli<const O extends Options>(usage: string, options: O, args = process.argv.slice(2)): Values<O> {
  let values: Values<O> & { help?: boolean };
  try {
    const help = { type: 'boolean', default: false } as const;
    values = parseArgs({ args, options: { ...options, help }, strict: true }).values as Values<O>;
  } catch (err) {
    fail(usage, (err as Error).message);
  }
  if (values.help) {
    console.log(usage.trimEnd());
    process.exit(0);
  }
  return values;
}

/** Ends the process with `reason` and the usage on stderr: the arguments were wrong. */
export function fail(usage: string, reason: string): never {
  console.error(`${reason}\n\n${usage.trimEnd()}`);
  process.exit(2);
}
