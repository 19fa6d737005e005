/**
 * Which version of the model a request asks for: `?version=` first (the client's own choice),
 * else the X-Model-Version header (which a client, or the entry point's canary, sets), else none
 * (the replica's default). The version that served it names itself in the same header.
 */
import type { Context } from 'koa';
import { VERSION_NAME } from '../engine/model-card.ts';
import { ApiError } from './errors.ts';

export const VERSION_HEADER = 'X-Model-Version';

export function askedVersion(ctx: Context): string | undefined {
  // Most requests carry no query string: skip parsing one for them.
  const query = ctx.querystring ? ctx.query.version : undefined;
  const asked = query ?? (ctx.get(VERSION_HEADER) || undefined);
  if (asked === undefined) return undefined;
  if (typeof asked !== 'string' || !VERSION_NAME.test(asked)) {
    throw new ApiError(
      'invalid_parameter',
      `a model version is a name such as v1 (${VERSION_NAME.source}), got ${JSON.stringify(asked)}`,
    );
  }
  return asked;
}
