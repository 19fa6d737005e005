/**
 * One list of image formats: the media types the service accepts (its header reader's list) are
 * exactly those the valid-picture variants are drawn in, those the hostile suite can forge a
 * header bomb of, and each decodes to the digit it shows. A format added to the service without
 * tests of every kind fails here.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SUPPORTED_MEDIA_TYPES } from '../../src/imaging/header.ts';
import { imageToModelInput } from '../../src/imaging/to-model-input.ts';
import { encodeVariant, mediaTypeOf, ONE_PER_FORMAT, plainDrawing, VARIANTS } from '../../../devkit/image-variants.ts';
import { digits } from '../../../devkit/testing.ts';
import { declaring, MAX_DECLARABLE_SIDE } from '../support/hostile-files.ts';

const sorted = (values: Iterable<string>) => [...values].sort();

describe('the image formats', () => {
  it('the service accepts are those the valid-picture variants are drawn in', () => {
    assert.deepEqual(sorted(new Set(VARIANTS.map(mediaTypeOf))), sorted(SUPPORTED_MEDIA_TYPES));
    assert.deepEqual(sorted(ONE_PER_FORMAT.map(mediaTypeOf)), sorted(SUPPORTED_MEDIA_TYPES));
  });

  it('each has a header the hostile suite can forge, and a largest side it can declare', async () => {
    assert.deepEqual(sorted(Object.keys(MAX_DECLARABLE_SIDE)), sorted(SUPPORTED_MEDIA_TYPES));
    const [d] = digits(1, 5);
    for (const variant of ONE_PER_FORMAT) {
      const type = mediaTypeOf(variant);
      const picture = await encodeVariant(variant, plainDrawing(d!.pixels));
      const forged = declaring(picture, type, 4000, 3000);
      assert.notDeepEqual(forged, picture, `${type}: the header was rewritten`);
    }
  });

  it('each decodes to a picture of the digit it was drawn from', async () => {
    const [d] = digits(1, 5);
    for (const variant of ONE_PER_FORMAT) {
      const picture = await encodeVariant(variant, plainDrawing(d!.pixels, 56));
      const { crop } = await imageToModelInput(picture, 4096 * 4096);
      assert.ok(crop && crop.height > 20, `${variant}: ${JSON.stringify(crop)}`);
    }
  });
});
