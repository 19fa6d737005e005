/** Decodes the first page of the TIFF in `workerData` in a thread of bounded memory (tiff.test.ts). */
import { parentPort, workerData } from 'node:worker_threads';
import { decodeTiffFirstPage } from '../../src/imaging/tiff.ts';

const { bytes, width, height } = workerData as { bytes: Uint8Array; width: number; height: number };
try {
  const page = decodeTiffFirstPage(Buffer.from(bytes), { width, height });
  parentPort!.postMessage({ ok: true, width: page.width, height: page.height, pixels: page.data.length / 4 });
} catch (err) {
  parentPort!.postMessage({ ok: false, message: (err as Error).message });
}
