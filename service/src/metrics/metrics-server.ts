/**
 * The metrics listener, on a port of its own (as prometheus_client's start_http_server): a scrape
 * never queues behind predictions' connections, and the API port exposes no metrics.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { AdminHandler } from '../admin/model-admin.ts';
import { ERRORS, errorBody, type ErrorCode } from '../http/errors.ts';

/** `admin`, when given, answers the paths it knows first (the model admin endpoint). */
export function createMetricsServer(registry: Registry, admin?: AdminHandler): Server {
  const answer = (res: ServerResponse, code: ErrorCode, message: string, headers: Record<string, string> = {}) => {
    res.writeHead(ERRORS[code].status, { 'Content-Type': 'application/json', ...headers });
    res.end(errorBody(code, message));
  };
  return createServer((req, res) => {
    if (admin?.(req, res)) return;
    const path = req.url!.split('?')[0]; // a server's requests always have a URL
    if (path !== '/metrics') {
      answer(res, 'not_found', 'metrics are served at GET /metrics');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      answer(res, 'method_not_allowed', 'use GET /metrics', { Allow: 'GET, HEAD' });
      return;
    }
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'Content-Type': registry.contentType });
        res.end(text); // Node.js sends no body in answer to HEAD
      },
      // Unlike the API's, this port faces the operators who scrape it: the failing collector's
      // reason is theirs to see.
      (err: Error) => answer(res, 'internal_error', err.message),
    );
  });
}
