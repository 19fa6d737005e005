/**
 * The first page of a TIFF, and only that page. jimp's TIFF reader decodes every page, and only
 * the first page's size is in the header checked against the pixel cap: a two-page file whose
 * second page declared 30000x30000 took 63 s and 3.5 GB. utif2 (the decoder jimp itself uses)
 * sizes its buffers from tag values, so the tags it allocates by are checked before decoding.
 */
import UTIF from 'utif2';

/** Tiles are usually 256 or 512 px square; larger ones only serve to make the decoder allocate. */
const MAX_TILE_SIDE = 1024;

const first = (tag: UTIF.IFD[string] | undefined): number | undefined =>
  Array.isArray(tag) && typeof tag[0] === 'number' ? tag[0] : undefined;

export function decodeTiffFirstPage(
  bytes: Buffer,
  expected: { width: number; height: number },
): { width: number; height: number; data: Uint8Array } {
  const [page] = UTIF.decode(bytes);
  if (!page) throw new Error('the TIFF holds no image');
  const width = first(page.t256);
  const height = first(page.t257);
  if (width !== expected.width || height !== expected.height) {
    throw new Error(`the first page is ${width}x${height}, not the ${expected.width}x${expected.height} of the header`);
  }
  const samples = first(page.t277) ?? 1;
  const bits = first(page.t258) ?? 1;
  if (samples > 5 || bits > 32) throw new Error(`${samples} samples of ${bits} bits per pixel is not a picture`);
  const tileWidth = first(page.t322) ?? 0;
  const tileHeight = first(page.t323) ?? 0;
  if (tileWidth > MAX_TILE_SIDE || tileHeight > MAX_TILE_SIDE) {
    throw new Error(`tiles of ${tileWidth}x${tileHeight} are larger than ${MAX_TILE_SIDE}x${MAX_TILE_SIDE}`);
  }
  UTIF.decodeImage(bytes, page);
  return { width: page.width, height: page.height, data: UTIF.toRGBA8(page) };
}
