/**
 * The model admin endpoint, on the metrics port only: the API port faces every client through the
 * balancer, the metrics port only the operators and Prometheus (loopback on the compose host, the
 * overlay network in the Swarm). An endpoint rather than a signal, because a load can be refused
 * and the caller must hear why: it answers with the reason, and the versions served are unchanged.
 *
 *   GET    /admin/models            the versions served, the default first
 *   PUT    /admin/models/<v>        load (or reload) <v> from MODEL_REPOSITORY/<v>
 *   DELETE /admin/models/<v>        stop serving <v> once its queue has drained
 *   PUT    /admin/default/<v>       requests that name no version get <v>
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { VERSION_NAME } from '../engine/model-card.ts';
import { ModelRefusedError, type ModelVersions } from '../engine/model-versions.ts';
import { ApiError, ERRORS, errorBody, type ErrorCode } from '../http/errors.ts';

const ROUTE = /^\/admin\/(models|default)(?:\/([^/]+))?$/;

export interface ModelAdminDeps {
  versions: ModelVersions;
  repository: string;
  logger: Logger;
  onLoad: (outcome: 'loaded' | 'refused') => void;
}

export type AdminHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

/** Handles the request if its path is an admin route (true), else leaves it (false). */
export function modelAdmin(deps: ModelAdminDeps): AdminHandler {
  const { versions, logger } = deps;
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const fail = (res: ServerResponse, code: ErrorCode, message: string, headers: Record<string, string> = {}) => {
    res.writeHead(ERRORS[code].status, { 'Content-Type': 'application/json', ...headers });
    res.end(errorBody(code, message));
  };
  const list = () => ({
    default_version: versions.defaultVersion,
    versions: versions.list().map(({ name, dir, engine }) => ({
      version: name,
      dir,
      model: engine.card.name,
      build: engine.card.version,
    })),
  });

  async function act(method: string, what: string, version: string): Promise<unknown> {
    if (what === 'default' && method === 'PUT') {
      versions.get(version); // 404 for one not served
      versions.setDefault(version);
      logger.info({ version }, 'default model version set');
      return list();
    }
    if (method === 'PUT') {
      const dir = join(deps.repository, version);
      const outcome = await versions.load(version, dir).catch((err: unknown) => {
        if (err instanceof ModelRefusedError) {
          deps.onLoad('refused');
          logger.warn({ version, dir, reason: err.message }, 'model version refused');
        }
        throw err;
      });
      deps.onLoad('loaded');
      logger.info({ version, dir, ...outcome }, 'model version loaded');
      return { version, ...outcome, ...list() };
    }
    versions.get(version);
    await versions.unload(version);
    logger.info({ version }, 'model version unloaded');
    return list();
  }

  return (req, res) => {
    const match = ROUTE.exec(req.url!.split('?')[0]!); // a server's requests always have a URL
    if (!match) return false;
    const [, what, version] = match as unknown as [string, 'models' | 'default', string | undefined];
    const allowed =
      version === undefined ? (what === 'models' ? 'GET' : '') : what === 'models' ? 'PUT, DELETE' : 'PUT';
    if (!allowed) fail(res, 'not_found', 'name a version: PUT /admin/default/<version>');
    else if (!allowed.split(', ').includes(req.method!)) {
      fail(res, 'method_not_allowed', `use ${allowed} on ${req.url}`, { Allow: allowed });
    } else if (version === undefined) json(res, 200, list());
    else if (!VERSION_NAME.test(version)) {
      fail(res, 'invalid_parameter', `a version is a directory's name (${VERSION_NAME.source})`);
    } else {
      req.resume(); // no body is read: the version is the path's
      act(req.method!, what, version).then(
        (body) => json(res, 200, body),
        (err: unknown) => {
          if (err instanceof ApiError) fail(res, err.code, err.message);
          else if (err instanceof ModelRefusedError) fail(res, 'model_refused', err.message);
          else fail(res, 'internal_error', (err as Error).message);
        },
      );
    }
    return true;
  };
}
