/**
 * Reads and writes a tfjs layers model (`model.json` + one weights file) on the local disk.
 * tfjs's own `file://` handler lives in tfjs-node, which is optional here, so this small pair of
 * IOHandlers keeps training, evaluation and the service independent of it.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadLayersModel, type LayersModel } from '@tensorflow/tfjs-layers';

const WEIGHTS_FILE = 'weights.bin';

export function modelSaver(dir: string): tf.io.IOHandler {
  return tf.io.withSaveHandler(async (artifacts) => {
    if (!(artifacts.weightData instanceof ArrayBuffer)) throw new Error('expected one weights buffer');
    await mkdir(dir, { recursive: true });
    const modelJson = {
      format: artifacts.format,
      generatedBy: artifacts.generatedBy,
      convertedBy: artifacts.convertedBy,
      modelTopology: artifacts.modelTopology,
      weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs }],
    };
    await writeFile(join(dir, WEIGHTS_FILE), Buffer.from(artifacts.weightData));
    await writeFile(join(dir, 'model.json'), JSON.stringify(modelJson));
    return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
  });
}

export function modelLoader(dir: string): tf.io.IOHandler {
  return {
    async load() {
      const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
      const manifest = json.weightsManifest;
      const buffers = await Promise.all(manifest.flatMap((group) => group.paths).map((p) => readFile(join(dir, p))));
      return {
        modelTopology: json.modelTopology,
        weightSpecs: manifest.flatMap((group) => group.weights),
        // A small Buffer is a view into Node.js's shared pool: the weights get an ArrayBuffer of their own.
        weightData: new Uint8Array(Buffer.concat(buffers)).buffer,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
      };
    },
  };
}

export async function loadModel(dir: string): Promise<LayersModel> {
  return loadLayersModel(modelLoader(dir));
}
