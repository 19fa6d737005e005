/** Worker thread entry of `startGradientHelpers`: a copy of the model that computes shares' gradients. */
import * as tf from '@tensorflow/tfjs';
import { parentPort, workerData } from 'node:worker_threads';
import { setupBackend } from './setup-backend.ts';
import { helperStep, trainableVariables } from './share-gradients.ts';
import type { GradientJob } from './gradient-helpers.ts';

const { topology, backend } = workerData as { topology: tf.io.ModelJSON['modelTopology']; backend: string };
await setupBackend(backend);
const model = await tf.models.modelFromJSON({ modelTopology: topology });
const variables = trainableVariables(model);
parentPort!.on('message', (job: GradientJob) => parentPort!.postMessage(helperStep(model, variables, job)));
parentPort!.postMessage('ready');
