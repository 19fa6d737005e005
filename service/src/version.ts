/** The service's version, from the root package.json (present in the repository and the image). */
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
export const serviceVersion = pkg.version;
