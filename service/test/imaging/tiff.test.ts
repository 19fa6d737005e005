/**
 * The TIFF reader reads page one and nothing else, whatever the directory chain says: a second page
 * declaring a huge canvas, or a chain that points back to itself, is decoded from page one or
 * refused, in a thread whose memory is capped, so that a reader that follows the chain fails here
 * (out of memory) instead of taking the test process down. And every guard of the reader on files
 * written field by field: each refusal with its reason, and what lies exactly at a bound accepted.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { decodeTiffFirstPage } from '../../src/imaging/tiff.ts';
import { encodeDigit, digits } from '../../../devkit/testing.ts';
import { tiffLoopingToItself, tiffWithSecondPage } from '../support/hostile-files.ts';

type Outcome = { ok: true; width: number; height: number; pixels: number } | { ok: false; message: string };

/** Decodes in a worker with 64 MB of heap; a worker that dies or runs 30 s is a failure. */
function decodeBounded(bytes: Buffer, width: number, height: number): Promise<Outcome> {
  const worker = new Worker(new URL('../support/tiff-worker.ts', import.meta.url), {
    workerData: { bytes, width, height },
    resourceLimits: { maxOldGenerationSizeMb: 64 },
  });
  let stuck: NodeJS.Timeout | undefined;
  return new Promise<Outcome>((resolve, reject) => {
    stuck = setTimeout(() => reject(new Error('the decoder was still running after 30 s')), 30_000);
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the decoder's thread exited with ${code}`)));
  }).finally(() => {
    clearTimeout(stuck);
    void worker.terminate();
  });
}

describe('TIFF pages', async () => {
  const tiff = await encodeDigit(digits(1, 3)[0]!.pixels, 'image/tiff');

  it('decodes page one of a TIFF whose second page declares 30000x30000 pixels', async () => {
    const outcome = await decodeBounded(tiffWithSecondPage(tiff, 30000, 30000), 28, 28);
    assert.deepEqual(outcome, { ok: true, width: 28, height: 28, pixels: 784 });
  });

  it('decodes page one of a TIFF whose directory chain points back to itself', async () => {
    const outcome = await decodeBounded(tiffLoopingToItself(tiff), 28, 28);
    assert.deepEqual(outcome, { ok: true, width: 28, height: 28, pixels: 784 });
  });
});

type Entry = { tag: number; type: 3 | 4 | 13; values: number[] }; // SHORT, LONG, IFD (written as LONG)

/**
 * An uncompressed 8-bit TIFF of one strip, written field by field so that each test can change
 * exactly the field it is about (`change` gets the entries before they are laid out).
 */
function tiffFile(options: {
  order?: 'II' | 'MM';
  width: number;
  height: number;
  samples?: number;
  change?: (entries: Entry[]) => Entry[];
}): Buffer {
  const { width, height, samples = 1 } = options;
  const little = (options.order ?? 'II') === 'II';
  const pixels = Buffer.alloc(width * height * samples, 0);
  for (let i = 0; i < pixels.length; i += 3) pixels[i] = 200; // some ink
  let entries: Entry[] = [
    { tag: 256, type: 4, values: [width] },
    { tag: 257, type: 4, values: [height] },
    { tag: 258, type: 3, values: new Array<number>(samples).fill(8) },
    { tag: 259, type: 3, values: [1] },
    { tag: 262, type: 3, values: [samples >= 3 ? 2 : 1] },
    { tag: 273, type: 4, values: [0] }, // 0: the strip's offset, set below
    { tag: 277, type: 3, values: [samples] },
    { tag: 278, type: 4, values: [height] },
    { tag: 279, type: 4, values: [pixels.length] },
  ];
  entries = options.change ? options.change(entries) : entries;
  const size = (e: Entry) => e.values.length * (e.type === 3 ? 2 : 4);
  const directoryEnd = 8 + 2 + entries.length * 12 + 4;
  const valuesLength = entries.reduce((n, e) => n + (size(e) > 4 ? size(e) : 0), 0);
  const file = Buffer.alloc(directoryEnd + valuesLength + pixels.length);
  const u16 = (v: number, at: number) => (little ? file.writeUInt16LE(v, at) : file.writeUInt16BE(v, at));
  const u32 = (v: number, at: number) => (little ? file.writeUInt32LE(v, at) : file.writeUInt32BE(v, at));
  const put = (e: Entry, v: number, at: number) => (e.type === 3 ? u16(v, at) : u32(v, at));
  file.write(little ? 'II' : 'MM', 0, 'latin1');
  u16(42, 2);
  u32(8, 4);
  u16(entries.length, 8);
  let valueAt = directoryEnd;
  const stripAt = directoryEnd + valuesLength;
  entries.forEach((e, i) => {
    const entry = 10 + i * 12;
    const values = e.tag === 273 ? e.values.map((v) => v || stripAt) : e.values;
    u16(e.tag, entry);
    u16(e.type, entry + 2);
    u32(values.length, entry + 4);
    const into = size(e) > 4 ? valueAt : entry + 8;
    if (size(e) > 4) {
      u32(valueAt, entry + 8);
      valueAt += size(e);
    }
    values.forEach((v, j) => put(e, v, into + j * (e.type === 3 ? 2 : 4)));
  });
  pixels.copy(file, stripAt);
  return file;
}

const replace = (tag: number, entry: Partial<Entry>) => (entries: Entry[]) =>
  entries.map((e) => (e.tag === tag ? { ...e, ...entry } : e));
const add = (entry: Entry) => (entries: Entry[]) => [...entries, entry].sort((a, b) => a.tag - b.tag);

/** A little-endian directory of [tag, type, count, value] entries, the chain ending after it. */
function directory(entries: [number, number, number, number][]): Buffer {
  const out = Buffer.alloc(2 + entries.length * 12 + 4);
  out.writeUInt16LE(entries.length, 0);
  entries.forEach(([tag, type, count, value], i) => {
    out.writeUInt16LE(tag, 2 + i * 12);
    out.writeUInt16LE(type, 4 + i * 12);
    out.writeUInt32LE(count, 6 + i * 12);
    out.writeUInt32LE(value, 10 + i * 12);
  });
  return out;
}

/**
 * A 6x4 page whose SubIFDs tag (330, of field type `linkType`) holds `links` offsets, followed by
 * `tail` (directories), which starts where the page ends: `offsets(end)` gives the offsets from that end.
 */
function withSubDirectories(
  links: number,
  offsets: (end: number) => number[],
  tail: (end: number) => Buffer,
  linkType: 4 | 13 = 4,
): Buffer {
  const page = (values: number[]) =>
    tiffFile({ width: 6, height: 4, change: add({ tag: 330, type: linkType, values }) });
  const end = page(new Array<number>(links).fill(0)).length;
  return Buffer.concat([page(offsets(end)), tail(end)]);
}

/**
 * 2,732 strips of the 6x4 page's 24 bytes, all at the same place, and one of `last` bytes: with 16,
 * exactly the strip bound of twice the page's 24 bytes and 64 KiB (65,584 bytes).
 */
const stripsOf = (last: number) => (entries: Entry[]) =>
  replace(279, { values: [...new Array<number>(2732).fill(24), last] })(
    replace(273, { values: new Array<number>(2733).fill(0) })(entries),
  );

/** A directory of one Software field ("abc", in the entry itself). */
const software = directory([[305, 2, 4, 0x00636261]]);

describe('the TIFF reader', () => {
  it('decodes an uncompressed page in either byte order, grey or RGB', () => {
    for (const order of ['II', 'MM'] as const) {
      for (const samples of [1, 3]) {
        const page = decodeTiffFirstPage(tiffFile({ order, width: 7, height: 5, samples }), { width: 7, height: 5 });
        assert.deepEqual([page.width, page.height, page.data.length], [7, 5, 7 * 5 * 4]);
        assert.ok(
          page.data.some((v) => v === 200),
          `${order} ${samples}: the ink is read`,
        );
      }
    }
  });

  it('refuses, saying why, every file it cannot read safely', () => {
    const good = tiffFile({ width: 6, height: 4 });
    const bytes = (edit: (file: Buffer) => void) => {
      const file = Buffer.from(good);
      edit(file);
      return file;
    };
    const cases: [string, Buffer, { width: number; height: number }?][] = [
      ['too short for a TIFF', good.subarray(0, 7)],
      ['a directory at 8 lies outside the file', good.subarray(0, 8)],
      ['no TIFF byte-order mark', bytes((f) => f.write('IM', 0, 'latin1'))],
      ['not a classic TIFF (BigTIFF is not supported)', bytes((f) => f.writeUInt16LE(43, 2))],
      ['a directory at 4 lies outside the file', bytes((f) => f.writeUInt32LE(4, 4))],
      [`a directory at ${good.length - 5} lies outside the file`, bytes((f) => f.writeUInt32LE(good.length - 5, 4))],
      ['a directory runs past the end of the file', bytes((f) => f.writeUInt16LE(2000, 8))],
      ['tag 256 has field type 0', bytes((f) => f.writeUInt16LE(0, 12))],
      ['tag 256 has field type 14', bytes((f) => f.writeUInt16LE(14, 12))],
      [
        'tag 258 claims more values than the file holds',
        tiffFile({ width: 6, height: 4, change: replace(258, { values: new Array(200).fill(8) }) }).subarray(0, 150),
      ],
      [
        'camera raw data is not supported',
        tiffFile({ width: 6, height: 4, change: add({ tag: 50740, type: 4, values: [1] }) }),
      ],
      [
        'camera raw data is not supported',
        tiffFile({ width: 6, height: 4, change: add({ tag: 61440, type: 4, values: [1] }) }),
      ],
      [
        'tag 330 points to directories with field type 3',
        tiffFile({ width: 6, height: 4, change: add({ tag: 330, type: 3, values: [8] }) }),
      ],
      [
        'directories nest too deep or repeat',
        tiffFile({ width: 6, height: 4, change: add({ tag: 330, type: 4, values: [8] }) }),
      ],
      [
        'directories nest too deep or repeat',
        tiffFile({ width: 6, height: 4, change: add({ tag: 34665, type: 4, values: [8, 8] }) }),
      ],
      ['the first page is 6x4, not the 6x5 of the header', good, { width: 6, height: 5 }],
      ['the first page is 6x4, not the 5x4 of the header', good, { width: 5, height: 4 }],
      [
        '6 samples of 8 bits per pixel is not a picture',
        tiffFile({ width: 6, height: 4, change: replace(277, { values: [6] }) }),
      ],
      [
        '1 samples of 64 bits per pixel is not a picture',
        tiffFile({ width: 6, height: 4, change: replace(258, { values: [64] }) }),
      ],
      [
        'tiles of 2048x16 are larger than 1024x1024',
        tiffFile({
          width: 6,
          height: 4,
          change: (e) => add({ tag: 323, type: 4, values: [16] })(add({ tag: 322, type: 4, values: [2048] })(e)),
        }),
      ],
      [
        'tiles of 16x1025 are larger than 1024x1024',
        tiffFile({
          width: 6,
          height: 4,
          change: (e) => add({ tag: 323, type: 4, values: [1025] })(add({ tag: 322, type: 4, values: [16] })(e)),
        }),
      ],
      ['image data lies outside the file', tiffFile({ width: 6, height: 4, change: replace(279, { values: [25] }) })],
      // Strips all at the same place in the file, one byte past the bound (see stripsOf); without
      // SamplesPerPixel, whose absence means one sample.
      [
        '65585 bytes of image data for a 6x4 page',
        tiffFile({ width: 6, height: 4, change: (e) => stripsOf(17)(e.filter(({ tag }) => tag !== 277)) }),
      ],
    ];
    cases.push(
      [
        'a directory runs past the end of the file',
        withSubDirectories(
          1,
          (end) => [end],
          () => software,
        ).subarray(0, -1),
      ],
      [
        'directories nest too deep or repeat',
        withSubDirectories(
          2,
          (end) => [end, end],
          () => software,
        ),
      ],
      [
        'directories nest too deep or repeat',
        withSubDirectories(
          1,
          (end) => [end],
          (end) =>
            Buffer.concat([directory([[330, 4, 1, end + 18]]), directory([[330, 4, 1, end + 36]]), directory([])]),
        ),
      ],
    );
    for (const [message, file, header] of cases) {
      assert.throws(() => decodeTiffFirstPage(file, header ?? { width: 6, height: 4 }), { message }, message);
    }
  });

  it('accepts what is exactly at its bounds', () => {
    const at = (change: (entries: Entry[]) => Entry[]) => () =>
      decodeTiffFirstPage(tiffFile({ width: 6, height: 4, change }), { width: 6, height: 4 });
    assert.doesNotThrow(at(stripsOf(16)));
    // utif2 may still fail on these made-up layouts; the reader's own bounds must not be what refuses them.
    const notRefusedByTheBounds = (read: () => unknown) => {
      try {
        read();
      } catch (err) {
        assert.doesNotMatch(
          String((err as Error)?.message ?? err),
          /not a picture|larger than 1024|directories nest|past the end|lies outside/,
        );
      }
    };
    // A directory ending exactly at the end of the file; directories nested two deep.
    const page = { width: 6, height: 4 };
    // Linked as LONG (4) and as IFD (13), the highest field type; the directory holds a BYTE (1) field.
    const bytes = directory([[700, 1, 1, 7]]);
    for (const [linkType, tail] of [
      [4, software],
      [13, bytes],
    ] as const) {
      const file = withSubDirectories(
        1,
        (end) => [end],
        () => tail,
        linkType,
      );
      assert.doesNotThrow(() => decodeTiffFirstPage(file, page), `link type ${linkType}`);
    }
    const twoDeep = withSubDirectories(
      1,
      (end) => [end],
      (end) => Buffer.concat([directory([[330, 4, 1, end + 18]]), directory([])]),
    );
    notRefusedByTheBounds(() => decodeTiffFirstPage(twoDeep, page));
    notRefusedByTheBounds(at(replace(258, { values: [32] })));
    notRefusedByTheBounds(at(replace(277, { values: [5] })));
    notRefusedByTheBounds(
      at((e) => add({ tag: 323, type: 4, values: [1024] })(add({ tag: 322, type: 4, values: [1024] })(e))),
    );
  });
});
