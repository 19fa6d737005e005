/** GET /model: a version's model card (the default's, or `?version=`), the versions served, and what a request may send. */
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { ModelVersions } from '../engine/model-versions.ts';
import { askedVersion } from '../http/version-choice.ts';
import { MNIST_INPUT_CONTRACT } from '../mnist.ts';

export interface ModelDeps {
  versions: Pick<ModelVersions, 'get' | 'names' | 'defaultVersion'>;
  backend: string;
  limits: { maxBodyBytes: number; maxImagePixels: number };
}

export function registerModel(router: Router, deps: ModelDeps): void {
  router.get('/model', (ctx: Context) => {
    const served = deps.versions.get(askedVersion(ctx));
    ctx.body = {
      ...served.engine.card,
      backend: deps.backend,
      served_version: served.name,
      versions: deps.versions.names(),
      default_version: deps.versions.defaultVersion,
      input_contract: {
        forms: ['multipart/form-data field "file"', 'raw image/* body', 'application/json {"pixels": [784 numbers]}'],
        model_input: MNIST_INPUT_CONTRACT,
        max_body_bytes: deps.limits.maxBodyBytes,
        max_image_pixels: deps.limits.maxImagePixels,
      },
    };
  });
}
