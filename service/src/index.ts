/**
 * The service's public entry: what the training code, the development kit, the scripts and the
 * system tests may use. Everything else under service/src is internal to the service.
 */
export { configSchema, parseConfig, ConfigError, SET_BY_DEPLOYMENT, userSettings, type Config } from './config.ts';
export { startReplica, type Replica } from './replica.ts';
export { createPipeline, type Pipeline } from './pipeline.ts';
export { imageToModelInput, type ModelInput } from './imaging/to-model-input.ts';
export { SUPPORTED_MEDIA_TYPES } from './imaging/header.ts';
export { greyImage, type GreyImage } from './imaging/grey-image.ts';
export { normaliseDigit, strokeWidth } from './imaging/normalise.ts';
export { dilate, padded, resizeArea } from './imaging/raster.ts';
export {
  MNIST_CLASSES,
  MNIST_INPUT_CONTRACT,
  MNIST_INPUT_SHAPE,
  MNIST_PIXELS,
  MNIST_SIDE,
  scaleToUnit,
} from './mnist.ts';
export { BACKENDS, selectBackend, type BackendName } from './engine/backend.ts';
export { DEFAULT_MODEL, DEFAULT_MODEL_DIR, SHIPPED_MODELS_DIR, readModelCard } from './engine/model-card.ts';
export { loadModel, modelSaver } from './engine/model-files.ts';
export { ApiError, ERRORS, renderError, type ErrorCode } from './http/errors.ts';
export { fileFromForm } from './http/multipart.ts';
export { createMetrics } from './metrics/metrics.ts';
export { inputFeatures } from './metrics/input-features.ts';
export { openApiDocument } from './routes/openapi.ts';
