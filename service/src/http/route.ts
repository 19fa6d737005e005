import type { Middleware } from 'koa';
import type { RequestState } from './request-context.ts';

/**
 * A route's [template, handler] pair for @koa/router that records the template for logs and
 * metrics (never the raw path, whose values are unbounded).
 */
export function route(template: string, handler: Middleware): [string, Middleware] {
  return [
    template,
    (ctx, next) => {
      (ctx.state as RequestState).route = template;
      return handler(ctx, next);
    },
  ];
}
