/**
 * The rollout API, beside /metrics on the controller's port:
 *
 *   GET    /rollout              the rollout's state and every step so far
 *   POST   /rollout/<version>    roll <version> out over the stable one, or over ?stable=<version>
 *                                (409 when one is under way or a version is not served everywhere)
 *   DELETE /rollout              roll the running one back at once
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { VERSION_NAME } from '../../service/src/engine/model-card.ts';
import { RolloutRefused, type Rollout } from './rollout.ts';

const ROUTE = /^\/rollout(?:\/([^/]+))?$/;

export function rolloutApi(rollout: Rollout) {
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const error = (res: ServerResponse, status: number, message: string) => json(res, status, { error: message });
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const url = new URL(req.url!, 'http://rollout');
    const match = ROUTE.exec(url.pathname);
    if (!match) return false;
    const version = match[1];
    const stable = url.searchParams.get('stable') ?? undefined;
    const allowed = version === undefined ? ['GET', 'DELETE'] : ['POST'];
    if (!allowed.includes(req.method!)) {
      res.setHeader('Allow', allowed.join(', '));
      error(res, 405, `use ${allowed.join(' or ')} on ${req.url}`);
      return true;
    }
    if ([version, stable].some((v) => v !== undefined && !VERSION_NAME.test(v))) {
      error(res, 400, `a version is a name such as v1 (${VERSION_NAME.source})`);
      return true;
    }
    req.resume();
    const action =
      req.method === 'GET'
        ? Promise.resolve(rollout.status)
        : req.method === 'DELETE'
          ? rollout.abort()
          : rollout.start(version!, stable);
    action.then(
      (state) => json(res, req.method === 'POST' ? 202 : 200, state),
      (err: unknown) => error(res, err instanceof RolloutRefused ? 409 : 503, (err as Error).message),
    );
    return true;
  };
}
