/**
 * The drawing page in a real browser (Debian's Chromium driven by playwright-core): digits drawn
 * with the mouse stroke by stroke as a person draws them, a file chosen, and the errors a person
 * meets shown as readable messages.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { CHROMIUM, launchChromium } from '../../../devkit/browser.ts';
import { digits, encodeDigit, startTestReplica } from '../../../devkit/testing.ts';
/** The body limit of the page's replica: small, so that a 413 is easy to provoke. */
const MAX_BODY_BYTES = 200_000;

type Point = [number, number];

/** A circle or an ellipse as one stroke, from angle `from` round to it again. */
function loop(cx: number, cy: number, rx: number, ry: number, from = -Math.PI / 2): Point[] {
  return Array.from({ length: 33 }, (_, i) => {
    const a = from + (i / 32) * 2 * Math.PI;
    return [cx + rx * Math.cos(a), cy + ry * Math.sin(a)];
  });
}

/** Digits as a person draws them: a few strokes each, in the pad's 0..1 coordinates. */
const HANDWRITING: Record<number, Point[][]> = {
  0: [loop(0.5, 0.5, 0.2, 0.3)],
  1: [
    [
      [0.42, 0.25],
      [0.54, 0.15],
      [0.54, 0.85],
    ],
  ],
  4: [
    [
      [0.38, 0.15],
      [0.28, 0.58],
      [0.74, 0.58],
    ],
    [
      [0.62, 0.3],
      [0.62, 0.86],
    ],
  ],
  7: [
    [
      [0.26, 0.2],
      [0.74, 0.2],
      [0.44, 0.85],
    ],
  ],
  8: [loop(0.5, 0.31, 0.15, 0.15, Math.PI / 2), loop(0.5, 0.66, 0.19, 0.19, -Math.PI / 2)],
};

describe('the drawing page in a real browser', () => {
  let replica: Awaited<ReturnType<typeof startTestReplica>>;
  let browser: Browser | undefined;
  let page: Page;
  let dir: string;

  before(async () => {
    replica = await startTestReplica({ MAX_BODY_BYTES: String(MAX_BODY_BYTES), REPLICA: 'mnist-1' });
    dir = mkdtempSync(join(tmpdir(), 'mnist-page-'));
    if (!existsSync(CHROMIUM)) {
      // CI installs Chromium; only a developer machine without it may skip.
      assert.ok(!process.env.CI, `Chromium is missing in CI (${CHROMIUM})`);
      return;
    }
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1000, height: 760 } });
    await page.goto(`${replica.url}/`);
  });
  after(async () => {
    await browser?.close();
    await replica.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const needsBrowser = (t: { skip: (why: string) => void }) => {
    if (!browser) t.skip(`no Chromium at ${CHROMIUM} (apt-get install chromium)`);
    return Boolean(browser);
  };

  /** Draws the strokes with the mouse and returns the answer the page received. */
  async function draw(strokes: Point[][]): Promise<{ digit: number; explain: { model_input: number[] } }> {
    await page.click('#clear');
    const box = (await page.locator('#pad').boundingBox())!;
    const at = ([x, y]: Point) => [box.x + x * box.width, box.y + y * box.height] as const;
    const answer = page.waitForResponse((r) => r.url().includes('/predict'));
    for (const stroke of strokes) {
      await page.mouse.move(...at(stroke[0]!));
      await page.mouse.down();
      for (const p of stroke.slice(1)) await page.mouse.move(...at(p), { steps: 6 });
      await page.mouse.up();
    }
    const response = await answer;
    await page.waitForFunction(() => document.querySelector('#status')?.textContent?.startsWith('Recognised'));
    return (await response.json()) as { digit: number; explain: { model_input: number[] } };
  }

  it('serves the page to a browser and the JSON index to an API client', async () => {
    const html = await fetch(`${replica.url}/`, { headers: { accept: 'text/html,*/*;q=0.8' } });
    assert.match(html.headers.get('content-type') ?? '', /text\/html/);
    const page = await html.text();
    assert.match(page, /<canvas id="pad"/);
    assert.match(page, /<link rel="icon" href="data:,">/, 'an empty icon: browsers ask for no /favicon.ico (a 404)');
    const json = await fetch(`${replica.url}/`, { headers: { accept: '*/*' } });
    assert.equal(((await json.json()) as { service: string }).service, 'mnist-cluster');
    const script = await fetch(`${replica.url}/app.js`);
    assert.equal(script.status, 200);
    assert.match(script.headers.get('content-type') ?? '', /javascript/);
  });

  for (const [label, strokes] of Object.entries(HANDWRITING)) {
    it(`recognises a ${label} drawn with the mouse, and shows the probabilities and what the model saw`, async (t) => {
      if (!needsBrowser(t)) return;
      const answer = await draw(strokes);
      assert.equal(answer.digit, Number(label), `drew a ${label}, the service read ${answer.digit}`);
      assert.equal(await page.textContent('#digit'), label);
      const shown = await page.$$eval('#bars li', (items) =>
        items.map((li) => ({
          best: li.classList.contains('best'),
          value: Number(li.querySelector('.value')!.textContent!.replace('%', '')),
        })),
      );
      assert.equal(shown.length, 10);
      assert.deepEqual(
        shown.flatMap((b, digit) => (b.best ? [digit] : [])),
        [Number(label)],
      );
      assert.ok(Math.abs(shown.reduce((sum, b) => sum + b.value, 0) - 100) < 1, 'the bars add up to 100%');
      const preview = await page.$eval('#seen', (canvas) =>
        Array.from((canvas as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, 28, 28).data).filter(
          (_, i) => i % 4 === 0,
        ),
      );
      const expected = answer.explain.model_input.map((v) => Math.round(v * 255));
      assert.ok(
        preview.every((v, i) => Math.abs(v - expected[i]!) <= 1),
        'the preview is the model input',
      );
      assert.ok(
        preview.some((v) => v > 200),
        'the preview shows the digit',
      );
      assert.equal(await page.textContent('[data-fact="replica"]'), 'mnist-1');
      if (label === '7') {
        const out = process.env.UPDATE_SCREENSHOTS ? 'docs/images' : dir;
        mkdirSync(out, { recursive: true });
        await page.screenshot({ path: join(out, 'drawing-page.png') });
      }
    });
  }

  it('recognises a chosen picture file', async (t) => {
    if (!needsBrowser(t)) return;
    const [d] = digits(1, 21);
    const answer = page.waitForResponse((r) => r.url().includes('/predict'));
    await page.setInputFiles('#file', {
      name: 'digit.png',
      mimeType: 'image/png',
      buffer: await encodeDigit(d!.pixels),
    });
    assert.equal(((await (await answer).json()) as { digit: number }).digit, d!.label);
    await page.waitForFunction((label) => document.querySelector('#digit')?.textContent === String(label), d!.label);
  });

  it('sends a photo larger than the service takes scaled down, and says so', async (t) => {
    if (!needsBrowser(t)) return;
    // A dark digit on white paper, 2000x1500 and 3 MB: over this replica's body limit as it is.
    const [d] = digits(1, 33);
    const dark = Buffer.from(d!.pixels.map((v) => 255 - v));
    const photo = await sharp(dark, { raw: { width: 28, height: 28, channels: 1 } })
      .resize(1500, 1500, { kernel: 'cubic' })
      .extend({ left: 250, right: 250, background: 'white' })
      .png({ compressionLevel: 0 })
      .toBuffer();
    assert.ok(photo.length > MAX_BODY_BYTES, `${photo.length} bytes`);
    const answer = page.waitForResponse((r) => r.url().includes('/predict'));
    await page.setInputFiles('#file', { name: 'photo.png', mimeType: 'image/png', buffer: photo });
    // Sent as it is, it would have been refused (413).
    assert.equal(((await (await answer).json()) as { digit: number }).digit, d!.label);
    await page.waitForFunction(() => document.querySelector('#status')?.textContent?.startsWith('Recognised'));
    assert.equal(
      await page.textContent('#status'),
      `Recognised a ${d!.label} (the 2000x1500 picture was sent scaled down to 1024x768).`,
    );
  });

  for (const [name, file, shown] of [
    [
      'a picture larger than the body limit',
      { name: 'big.png', mimeType: 'image/png', buffer: Buffer.alloc(MAX_BODY_BYTES + 1000, 1) },
      /^413 payload_too_large: the request body is larger/,
    ],
    [
      'an SVG',
      {
        name: 'drawing.svg',
        mimeType: 'image/svg+xml',
        buffer: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="28" height="28"/>'),
      },
      /^415 unsupported_image_format: svg images are not supported/,
    ],
    [
      'a text file',
      { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a picture of a digit\n') },
      /^422 undecodable_image: /,
    ],
  ] as const) {
    it(`shows a readable message for ${name}`, async (t) => {
      if (!needsBrowser(t)) return;
      await page.setInputFiles('#file', file);
      await page.waitForSelector('#error:not([hidden])');
      assert.match((await page.textContent('#error'))!, shown);
      assert.equal(await page.textContent('#digit'), '?');
    });
  }

  it('shows the answer on a phone without a scroll', async (t) => {
    if (!needsBrowser(t)) return;
    const phone = await browser!.newPage({ viewport: { width: 375, height: 667 }, isMobile: true, hasTouch: true });
    try {
      await phone.goto(`${replica.url}/`);
      const box = (await phone.locator('#pad').boundingBox())!;
      const answer = phone.waitForResponse((r) => r.url().includes('/predict'));
      const stroke = HANDWRITING[7]![0]!;
      await phone.mouse.move(box.x + stroke[0]![0] * box.width, box.y + stroke[0]![1] * box.height);
      await phone.mouse.down();
      for (const [x, y] of stroke.slice(1))
        await phone.mouse.move(box.x + x * box.width, box.y + y * box.height, { steps: 6 });
      await phone.mouse.up();
      assert.equal(((await (await answer).json()) as { digit: number }).digit, 7);
      await phone.waitForFunction(() => document.querySelector('#digit')?.textContent === '7');
      const shown = await phone.$eval('#digit', (d) => {
        const r = d.getBoundingClientRect();
        return r.top >= 0 && r.bottom <= window.innerHeight;
      });
      assert.ok(shown, 'the digit is inside the viewport');
    } finally {
      await phone.close();
    }
  });

  it('clears the pad from the keyboard', async (t) => {
    if (!needsBrowser(t)) return;
    await draw(HANDWRITING[1]!);
    await page.focus('#pad');
    await page.keyboard.press('Delete');
    assert.equal(await page.textContent('#digit'), '?');
    const inked = await page.$eval('#pad', (canvas) =>
      Array.from((canvas as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, 280, 280).data).some(
        (v) => v < 250,
      ),
    );
    assert.equal(inked, false, 'the pad is blank again');
  });
});
