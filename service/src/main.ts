/** The process entry: configuration, then one replica (replica.ts wires it), then signals. */
import pino from 'pino';
import { configOrExit, parseConfig, StartupError } from './config.ts';
import { onShutdownSignal } from './lifecycle.ts';
import { startReplica } from './replica.ts';

const config = configOrExit(parseConfig);
const logger = pino({ level: config.LOG_LEVEL, base: { replica: config.REPLICA } });
let replica;
try {
  replica = await startReplica(config, logger);
} catch (err) {
  // One line, not a stack: the tfjs wasm glue would otherwise print its whole bundled source.
  console.error(err instanceof StartupError ? err.message : `start-up failed: ${(err as Error).message}`);
  process.exit(1);
}

onShutdownSignal(async (signal) => {
  logger.info({ signal }, 'draining');
  const drained = await replica.stop();
  logger.info({ drained }, 'stopped');
  process.exit(0);
});
