/**
 * The metrics listener, on a port of its own (as prometheus_client's start_http_server): a scrape
 * never queues behind predictions' connections, and the API port exposes no metrics.
 */
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import { errorBody } from '../http/errors.ts';

export function createMetricsServer(registry: Registry): Server {
  return createServer((req, res) => {
    const path = req.url!.split('?')[0]; // a server's requests always have a URL
    if (path !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(errorBody('not_found', 'metrics are served at GET /metrics'));
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'Content-Type': 'application/json', Allow: 'GET, HEAD' });
      res.end(errorBody('method_not_allowed', 'use GET /metrics'));
      return;
    }
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'Content-Type': registry.contentType });
        res.end(text); // Node.js sends no body in answer to HEAD
      },
      (err: Error) => {
        res.writeHead(500, { 'Content-Type': 'application/json' });
        res.end(errorBody('internal_error', err.message));
      },
    );
  });
}
