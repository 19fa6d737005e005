/** The OpenAPI 3 description of the API, served at /openapi.json and rendered at /docs. */
import { ERRORS, type ErrorCode } from '../http/errors.ts';
import { SUPPORTED_MEDIA_TYPES } from '../imaging/header.ts';
import { MNIST_PIXELS, MNIST_SIDE } from '../mnist.ts';

/** The catalogue's errors by status, each status described by its codes and when they happen. */
function errorResponses(codes: ErrorCode[], schema = 'Error') {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(ERRORS[code].status, [...(byStatus.get(ERRORS[code].status) ?? []), code]);
  return Object.fromEntries(
    [...byStatus].map(([status, group]) => [
      String(status),
      {
        description: group.map((code) => `\`${code}\`: ${ERRORS[code].when}`).join('; '),
        content: { 'application/json': { schema: { $ref: `#/components/schemas/${schema}` } } },
      },
    ]),
  );
}

/** What only a probe, the router or a gone client sees; everything else can answer /predict. */
const NOT_FROM_PREDICT = new Set<ErrorCode>([
  'starting',
  'draining',
  'not_found',
  'not_implemented',
  'client_closed_request',
]);
const PREDICT_ERRORS = (Object.keys(ERRORS) as ErrorCode[]).filter((code) => !NOT_FROM_PREDICT.has(code));

const binaryImage = { schema: { type: 'string', format: 'binary' } };

/** Every operation of `document` as "METHOD /path": its summary, for the JSON index at GET /. */
export function endpointIndex(document: {
  paths: Record<string, Record<string, { summary?: string }>>;
}): Record<string, string> {
  return Object.fromEntries(
    Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.entries(operations).map(([method, { summary }]) => [`${method.toUpperCase()} ${path}`, summary ?? '']),
    ),
  );
}

export function openApiDocument(version: string) {
  return {
    openapi: '3.0.3',
    info: {
      title: 'mnist-cluster inference API',
      version,
      description:
        'Recognises a handwritten digit. Pictures are normalised the way MNIST was made (ink white on black, cropped, ' +
        'scaled into 20x20, centred by mass in 28x28) before a CNN trained on MNIST classifies them.',
    },
    paths: {
      '/predict': {
        post: {
          summary: 'Classify one digit',
          parameters: [
            {
              name: 'explain',
              in: 'query',
              required: false,
              description:
                'with 1 or true, the answer also holds `explain`: the 28x28 input the model saw and the crop box',
              schema: { type: 'string', enum: ['1', 'true', '0', 'false'] },
            },
          ],
          requestBody: {
            required: true,
            content: {
              'multipart/form-data': {
                schema: {
                  type: 'object',
                  required: ['file'],
                  properties: { file: { type: 'string', format: 'binary' } },
                },
              },
              ...Object.fromEntries(SUPPORTED_MEDIA_TYPES.map((t) => [t, binaryImage])),
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['pixels'],
                  properties: {
                    pixels: {
                      type: 'array',
                      minItems: 784,
                      maxItems: 784,
                      items: { type: 'number', minimum: 0, maximum: 255 },
                      description: '28x28 row-major intensities, all 0..1 or 0..255',
                    },
                  },
                },
                // Swagger UI's "Try it out" sends this: a digit, so that it answers 200, not blank_image.
                example: { pixels: Array.from(SEVEN) },
              },
            },
          },
          responses: {
            '200': {
              description: 'The digit, its probability and all ten probabilities',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Prediction' } } },
            },
            ...errorResponses(PREDICT_ERRORS),
          },
        },
      },
      '/healthz': { get: { summary: 'Liveness: the process answers', responses: { '200': { description: 'alive' } } } },
      '/readyz': {
        get: {
          summary: 'Readiness: model loaded and warmed, not shutting down',
          responses: { '200': { description: 'ready' }, ...errorResponses(['starting', 'draining']) },
        },
      },
      '/model': {
        get: {
          summary: 'Model card: architecture, parameters, accuracy, backend',
          responses: { '200': { description: 'the model card' } },
        },
      },
      '/': {
        get: {
          summary: 'Index of the endpoints (JSON), or the drawing page for a browser (Accept: text/html)',
          responses: { '200': { description: 'endpoints, or the page' } },
        },
      },
      '/docs': {
        get: { summary: 'Swagger UI over this document', responses: { '200': { description: 'the page' } } },
      },
      ...v2Paths(),
      '/openapi.json': {
        get: { summary: 'This OpenAPI 3 document', responses: { '200': { description: 'the document' } } },
      },
    },
    components: {
      schemas: {
        Prediction: {
          type: 'object',
          required: ['digit', 'confidence', 'probabilities'],
          properties: {
            digit: { type: 'integer', minimum: 0, maximum: 9 },
            confidence: { type: 'number', minimum: 0, maximum: 1 },
            probabilities: { type: 'array', items: { type: 'number' }, minItems: 10, maxItems: 10 },
            input_form: { type: 'string', enum: ['multipart', 'raw', 'json'] },
            preprocess_ms: { type: 'number' },
            queue_ms: { type: 'number' },
            inference_ms: { type: 'number' },
            batch_size: { type: 'integer' },
            model: { type: 'string' },
            model_version: { type: 'string' },
            backend: { type: 'string', enum: ['tensorflow', 'wasm', 'cpu'] },
            replica: { type: 'string', description: 'which replica answered' },
            explain: {
              type: 'object',
              description: 'only with ?explain=1',
              properties: {
                model_input: {
                  type: 'array',
                  items: { type: 'number', minimum: 0, maximum: 1 },
                  minItems: 784,
                  maxItems: 784,
                  description: 'the normalised input, 28x28 row-major, white digit on black',
                },
                crop: {
                  type: 'object',
                  nullable: true,
                  description: 'where the digit was found, in the pixels of the picture sent',
                  properties: {
                    x: { type: 'integer' },
                    y: { type: 'integer' },
                    width: { type: 'integer' },
                    height: { type: 'integer' },
                  },
                },
              },
            },
          },
        },
        OipError: {
          type: 'object',
          required: ['error'],
          description: "The Open Inference Protocol's error, on the /v2 routes",
          properties: { error: { type: 'string' } },
        },
        OipTensor: {
          type: 'object',
          required: ['name', 'shape', 'datatype', 'data'],
          properties: {
            name: { type: 'string' },
            shape: { type: 'array', items: { type: 'integer', minimum: 0 } },
            datatype: { type: 'string' },
            parameters: { type: 'object' },
            data: { type: 'array', description: 'row-major, flat or nested as the shape' },
          },
        },
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: { code: { type: 'string' }, message: { type: 'string' }, request_id: { type: 'string' } },
            },
          },
        },
      },
    },
  };
}

/** What the Open Inference Protocol's routes can answer with, besides their own refusals. */
const V2_INFER_ERRORS: ErrorCode[] = [
  'invalid_tensor',
  'invalid_json',
  'not_found',
  'payload_too_large',
  'unsupported_media_type',
  'undecodable_image',
  'unsupported_image_format',
  'image_too_large',
  'blank_image',
  'overloaded',
  'starting',
  'draining',
];
const json = (schema: object) => ({ content: { 'application/json': { schema } } });

/** The Open Inference Protocol's REST routes (routes/v2.ts), with and without a version. */
function v2Paths() {
  const model = { name: 'name', in: 'path', required: true, schema: { type: 'string', enum: ['mnist'] } };
  const version = { name: 'version', in: 'path', required: true, schema: { type: 'string' } };
  const modelRoutes = (base: string, parameters: object[]) => ({
    [base]: {
      get: {
        summary: 'Open Inference Protocol: model metadata',
        parameters,
        responses: {
          '200': { description: 'name, versions, platform, inputs and outputs', ...json({ type: 'object' }) },
          ...errorResponses(['not_found'], 'OipError'),
        },
      },
    },
    [`${base}/ready`]: {
      get: {
        summary: 'Open Inference Protocol: model readiness',
        parameters,
        responses: {
          '200': {
            description: 'whether the model is ready',
            ...json({
              type: 'object',
              required: ['name', 'ready'],
              properties: { name: { type: 'string' }, ready: { type: 'boolean' } },
            }),
          },
          ...errorResponses(['not_found'], 'OipError'),
        },
      },
    },
    [`${base}/infer`]: {
      post: {
        summary: 'Open Inference Protocol: classify N digits (a UINT8/FP32 [N,28,28] tensor, or BYTES base64 pictures)',
        parameters,
        requestBody: {
          required: true,
          ...json({
            type: 'object',
            required: ['inputs'],
            properties: {
              id: { type: 'string' },
              parameters: { type: 'object' },
              inputs: { type: 'array', minItems: 1, maxItems: 1, items: { $ref: '#/components/schemas/OipTensor' } },
              outputs: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['name'],
                  properties: { name: { type: 'string', enum: ['probabilities', 'digit'] } },
                },
              },
            },
          }),
        },
        responses: {
          '200': {
            description: 'the outputs asked for: probabilities [N,10] FP32, digit [N] INT32',
            ...json({
              type: 'object',
              required: ['model_name', 'outputs'],
              properties: {
                model_name: { type: 'string' },
                model_version: { type: 'string' },
                id: { type: 'string' },
                outputs: { type: 'array', items: { $ref: '#/components/schemas/OipTensor' } },
              },
            }),
          },
          ...errorResponses(V2_INFER_ERRORS, 'OipError'),
        },
      },
    },
  });
  return {
    '/v2': {
      get: {
        summary: 'Open Inference Protocol: server metadata',
        responses: { '200': { description: 'name, version, extensions', ...json({ type: 'object' }) } },
      },
    },
    '/v2/health/live': {
      get: {
        summary: 'Open Inference Protocol: liveness',
        responses: { '200': { description: 'live', ...json({ type: 'object' }) } },
      },
    },
    '/v2/health/ready': {
      get: {
        summary: 'Open Inference Protocol: readiness',
        responses: {
          '200': { description: 'ready', ...json({ type: 'object' }) },
          ...errorResponses(['starting', 'draining'], 'OipError'),
        },
      },
    },
    ...modelRoutes('/v2/models/{name}', [model]),
    ...modelRoutes('/v2/models/{name}/versions/{version}', [model, version]),
  };
}

/** A 7 drawn as a pen would: a bar on top and a stroke down to the left, white on black, 28x28. */
const SEVEN = ((): Uint8Array => {
  const pixels = new Uint8Array(MNIST_PIXELS);
  const ink = (x: number, y: number) => {
    for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) pixels[(y + dy) * MNIST_SIDE + x + dx] = 255;
  };
  for (let x = 7; x <= 20; x++) ink(x, 6);
  for (let y = 7; y <= 21; y++) ink(Math.round(20 - ((y - 7) * 8) / 14), y);
  return pixels;
})();
