/** GET /healthz (the process answers) and /readyz (the model is warm and no shutdown is under way). */
import type Router from '@koa/router';
import type { Context } from 'koa';
import { ApiError } from '../http/errors.ts';

export interface Readiness {
  /** Model loaded and warmed. */
  ready: boolean;
  /** SIGTERM received: finishing in-flight work, taking no more from a load balancer. */
  draining: boolean;
}

export function registerProbes(router: Router, deps: { replica: string; readiness: Readiness }): void {
  router.get('/healthz', (ctx: Context) => {
    ctx.body = { status: 'alive', replica: deps.replica };
  });
  router.get('/readyz', (ctx: Context) => {
    const { ready, draining } = deps.readiness;
    if (!ready || draining) {
      throw new ApiError(
        draining ? 'draining' : 'starting',
        draining ? 'shutting down' : 'model not loaded and warmed yet',
      );
    }
    ctx.body = { status: 'ready', replica: deps.replica };
  });
}
