/** GET /model: the model card, the backend it runs on, and what a request may send. */
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { ModelCard } from '../engine/model-card.ts';
import { MNIST_INPUT_CONTRACT } from '../mnist.ts';

export interface ModelDeps {
  card: ModelCard;
  backend: string;
  limits: { maxBodyBytes: number; maxImagePixels: number };
}

export function registerModel(router: Router, deps: ModelDeps): void {
  router.get('/model', (ctx: Context) => {
    ctx.body = {
      ...deps.card,
      backend: deps.backend,
      input_contract: {
        forms: ['multipart/form-data field "file"', 'raw image/* body', 'application/json {"pixels": [784 numbers]}'],
        model_input: MNIST_INPUT_CONTRACT,
        max_body_bytes: deps.limits.maxBodyBytes,
        max_image_pixels: deps.limits.maxImagePixels,
      },
    };
  });
}
