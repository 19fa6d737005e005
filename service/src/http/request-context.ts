/**
 * The outermost middleware: gives every request an id (X-Request-Id in and out), turns any
 * thrown error into the JSON error body, logs one line per request at a level that fits its
 * outcome, and reports the request to telemetry.
 */
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import type { OnClientGone } from '../engine/batcher.ts';
import type { Telemetry } from '../metrics/telemetry.ts';
import { ApiError, renderError } from './errors.ts';
import { clientIp } from './client-ip.ts';
import { toApiError } from './error-mapping.ts';

const PROBES = new Set(['/healthz', '/readyz']);
const REQUEST_ID = /^[\w.:-]{1,128}$/;

/**
 * Bytes this request moved on its connection, headers included: the socket's counters minus what
 * earlier requests of the same keep-alive connection already accounted for.
 */
const accounted = new WeakMap<Socket, { read: number; written: number }>();
function socketBytes(socket: Socket): { received: number; sent: number } {
  const before = accounted.get(socket) ?? { read: 0, written: 0 };
  const now = { read: socket.bytesRead, written: socket.bytesWritten };
  accounted.set(socket, now);
  return { received: now.read - before.read, sent: now.written - before.written };
}

export interface RequestState {
  requestId: string;
  /** Runs the given callback when the client disconnects before its answer has been sent. */
  onClientGone: OnClientGone;
  /** The model version that took the request, once one has. */
  version?: string;
}

/**
 * The router leaves 404, 405 (with its Allow header) and 501 without a body: give them ours. (No
 * route of this app answers those statuses itself: its errors are thrown. allowedMethods({ throw:
 * true }) would throw them, but without the Allow header a 405 needs.)
 */
function unanswered(ctx: Context): void {
  if (ctx.status === 404) {
    throw new ApiError('not_found', `no route for ${ctx.method} ${ctx.path}; see GET / for the endpoints`);
  }
  if (ctx.status === 405) {
    throw new ApiError(
      'method_not_allowed',
      `${ctx.method} is not allowed on ${ctx.path}; use ${ctx.response.get('Allow')}`,
    );
  }
  if (ctx.status === 501) throw new ApiError('not_implemented', `method ${ctx.method} is not implemented`);
}

export function requestContext(options: {
  logger: Logger;
  telemetry: Telemetry;
  trustProxy: boolean;
  accessLogSample: number;
}) {
  const { logger, telemetry, trustProxy, accessLogSample } = options;
  return async function handle(ctx: Context, next: Next): Promise<void> {
    const started = process.hrtime.bigint();
    const incoming = ctx.get('x-request-id');
    const requestId = REQUEST_ID.test(incoming) ? incoming : randomUUID();
    const state = ctx.state as RequestState;
    state.requestId = requestId;
    let gone = false;
    let onGone: (() => void) | undefined;
    state.onClientGone = (callback) => {
      if (gone) callback();
      else onGone = callback;
    };
    ctx.set('X-Request-Id', requestId);
    const ip = clientIp(ctx, trustProxy);
    telemetry.requestStarted();
    let error: ApiError | undefined;
    let cause: unknown;
    // Logged and counted once the answer has left or the connection dropped, whichever is first,
    // but never before the handler has settled: a client that disconnects mid-request closes the
    // response while the handler still runs, and only its outcome says what happened (499).
    let markHandled!: () => void;
    const handled = new Promise<void>((resolve) => (markHandled = resolve));
    ctx.res.once('close', () => {
      // Stryker disable next-line ConditionalExpression: once the answer is sent no input waits to be dropped
      if (!ctx.res.writableFinished) {
        gone = true;
        onGone?.();
      }
      void handled.then(report);
    });
    try {
      await next();
      unanswered(ctx);
    } catch (err) {
      cause = err;
      error = toApiError(err);
      if (error.status < 500) telemetry.rejected(error.code, ctx.get('x-forwarded-for') ? 'load_balancer' : 'direct');
      ctx.status = error.status;
      ctx.set(error.headers);
      ctx.body = renderError(ctx.path, error, requestId);
    } finally {
      markHandled();
    }

    function report(): void {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      // The matched template ("/docs/:asset"), never the raw path, whose values are unbounded.
      const route = (ctx as { routerPath?: string }).routerPath ?? 'unmatched';
      const io = socketBytes(ctx.req.socket);
      const log = {
        request_id: requestId,
        method: ctx.method,
        path: ctx.path,
        route,
        status: ctx.status,
        ms: Number((seconds * 1000).toFixed(3)),
        client_ip: ip,
        bytes_in: io.received,
        bytes_out: io.sent,
        ...(state.version ? { version: state.version } : {}),
        ...(error ? { error_code: error.code } : {}),
      };
      // At hundreds of requests a second the access log is mostly the same line: keep a sample
      // (a sample of 1 keeps every line: Math.random() is always below 1).
      // Stryker disable next-line EqualityOperator: Math.random() is 0 with a chance of one in 2^53
      const sampled = Math.random() < accessLogSample;
      if (error && error.status >= 500) logger.error({ ...log, err: cause }, error.message);
      else if (error) logger.info(log, error.message);
      // Health probes arrive every few seconds from Docker and load balancers: keep them out of info.
      else if (PROBES.has(route)) logger.debug(log, 'probe');
      else if (sampled) logger.info(log, 'request');
      telemetry.requestFinished({
        method: ctx.method,
        route,
        status: ctx.status,
        seconds,
        receivedBytes: io.received,
        sentBytes: io.sent,
        clientIp: ip,
        version: state.version,
      });
    }
  };
}
