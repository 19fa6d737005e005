/**
 * The first page of a TIFF, read defensively. utif2 (the decoder jimp itself uses) trusts the
 * file: it follows the directory chain until an offset of 0 (a chain that loops, or points past
 * the end, never ends), loops over as many values as a tag claims (four billion for a crafted
 * count), and copies as many strip bytes as the file says. jimp's reader also decodes every page:
 * a two-page file whose second page declared 30000x30000 took over a minute and 3.5 GB. So the
 * directories are checked here first, the chain is cut after the first page, and the strips and
 * sample layout are bounded before anything is decoded.
 */
import UTIF from 'utif2';

/** Bytes per value of each TIFF field type, 1 to 13 (BYTE ... IFD). */
const TYPE_BYTES = [0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4];
/** Tags holding offsets of further directories, which utif2 reads too. */
const SUB_DIRECTORY_TAGS = new Set([330, 34665, 34853]);
/** Camera-raw private data (DNG, Fuji), which utif2 parses with rules of its own: not a digit picture. */
const RAW_TAGS = new Set([50740, 61440]);
/** Tiles are usually 256 or 512 px square; larger ones only serve to make the decoder allocate. */
const MAX_TILE_SIDE = 1024;

type Reader = (at: number) => number;

/** Throws unless every directory utif2 will read lies inside the file with all its values. */
function checkDirectories(file: Buffer, u16: Reader, u32: Reader, first: number): void {
  const seen = new Set<number>();
  const check = (at: number, depth: number): void => {
    if (depth > 2 || seen.has(at)) throw new Error('directories nest too deep or repeat');
    seen.add(at);
    if (at < 8 || at + 6 > file.length) throw new Error(`a directory at ${at} lies outside the file`);
    const entries = u16(at);
    if (at + 2 + entries * 12 + 4 > file.length) throw new Error('a directory runs past the end of the file');
    for (let i = 0; i < entries; i++) {
      const entry = at + 2 + i * 12;
      const [tag, type, count, value] = [u16(entry), u16(entry + 2), u32(entry + 4), u32(entry + 8)];
      if (type < 1 || type > 13) throw new Error(`tag ${tag} has field type ${type}`);
      const bytes = count * TYPE_BYTES[type]!;
      if (bytes > 4 && value + bytes > file.length)
        throw new Error(`tag ${tag} claims more values than the file holds`);
      if (RAW_TAGS.has(tag)) throw new Error('camera raw data is not supported');
      if (SUB_DIRECTORY_TAGS.has(tag)) {
        if (type !== 4 && type !== 13) throw new Error(`tag ${tag} points to directories with field type ${type}`);
        for (let j = 0; j < count; j++) check(bytes > 4 ? u32(value + 4 * j) : value, depth + 1);
      }
    }
  };
  check(first, 0);
}

/** A field's numbers; none for an absent field. */
const numbers = (tag: UTIF.IFD[string] | undefined): number[] =>
  // Stryker disable next-line MethodExpression,ConditionalExpression: for the type checker; utif2 reads every numeric field type as numbers
  Array.isArray(tag) ? tag.filter((v): v is number => typeof v === 'number') : [];
const firstValue = (tag: UTIF.IFD[string] | undefined): number | undefined => numbers(tag)[0];

export function decodeTiffFirstPage(
  bytes: Buffer,
  expected: { width: number; height: number },
): { width: number; height: number; data: Uint8Array } {
  if (bytes.length < 8) throw new Error('too short for a TIFF');
  const order = bytes.toString('latin1', 0, 2);
  if (order !== 'II' && order !== 'MM') throw new Error('no TIFF byte-order mark');
  const little = order === 'II';
  const u16: Reader = (at) => (little ? bytes.readUInt16LE(at) : bytes.readUInt16BE(at));
  const u32: Reader = (at) => (little ? bytes.readUInt32LE(at) : bytes.readUInt32BE(at));
  if (u16(2) !== 42) throw new Error('not a classic TIFF (BigTIFF is not supported)');
  const first = u32(4);
  checkDirectories(bytes, u16, u32, first);

  // A copy whose first directory says it is the last: utif2 reads that page and stops.
  const file = Buffer.from(bytes);
  const next = first + 2 + u16(first) * 12;
  file.fill(0, next, next + 4); // offset 0, in either byte order
  const decode = UTIF.decode as (buffer: Buffer, options: { parseMN: boolean; debug: boolean }) => UTIF.IFD[];
  // The directory checked above is there to read. No maker notes (camera data), no debug output.
  // Stryker disable next-line ObjectLiteral,BooleanLiteral: work and noise only
  const page = decode(file, { parseMN: false, debug: false })[0]!;

  const width = firstValue(page.t256);
  const height = firstValue(page.t257);
  if (width !== expected.width || height !== expected.height) {
    throw new Error(`the first page is ${width}x${height}, not the ${expected.width}x${expected.height} of the header`);
  }
  const samples = firstValue(page.t277) ?? 1;
  const bits = firstValue(page.t258) ?? 1;
  if (samples > 5 || bits > 32) throw new Error(`${samples} samples of ${bits} bits per pixel is not a picture`);
  const [tileWidth, tileHeight] = [firstValue(page.t322) ?? 0, firstValue(page.t323) ?? 0];
  if (tileWidth > MAX_TILE_SIDE || tileHeight > MAX_TILE_SIDE) {
    throw new Error(`tiles of ${tileWidth}x${tileHeight} are larger than ${MAX_TILE_SIDE}x${MAX_TILE_SIDE}`);
  }
  // Strips (or tiles) must lie in the file, and hold no more than a generous bound on what this
  // page can need: a run-length decoder would otherwise spin over megabytes for a 28x28 picture.
  const offsets = numbers(page.t273 ?? page.t324);
  const counts = numbers(page.t279 ?? page.t325);
  const raw = Math.ceil((width * samples * bits) / 8) * height;
  const budget = 2 * raw + 64 * 1024;
  let total = 0;
  offsets.forEach((offset, i) => {
    const count = counts[i] ?? 0;
    if (offset + count > bytes.length) throw new Error('image data lies outside the file');
    total += count;
  });
  if (total > budget) throw new Error(`${total} bytes of image data for a ${width}x${height} page`);

  UTIF.decodeImage(file, page);
  return { width: page.width, height: page.height, data: UTIF.toRGBA8(page) };
}
