// Child process of cgroup.test.ts: waits until the parent has moved it into a cgroup, then
// prints what the service's reader sees from inside.
import { readCgroupStats } from '../../src/metrics/cgroup.ts';

process.stdin.once('data', () => {
  process.stdout.write(JSON.stringify(readCgroupStats()));
  process.exit(0);
});
