/**
 * The drawing page, served by every replica at GET / to browsers (API clients keep the JSON
 * index): one HTML document with its styles, and its script compiled from service/web/app.ts.
 * Everything is same-origin, so the page works without internet access.
 */
import { readFileSync } from 'node:fs';
import type Router from '@koa/router';

/** The compiled script: service/web/build/ beside the sources, the same path under dist/ in the image. */
const SCRIPT = new URL('../../web/build/app.js', import.meta.url);

const BAR = (digit: number) =>
  `<li><span class="label">${digit}</span><span class="bar"><span class="fill"></span></span><span class="value">0%</span></li>`;

export const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mnist-cluster: draw a digit</title>
<link rel="icon" href="data:,">
<style>
  :root { font-family: system-ui, sans-serif; color: #1d2433; background: #f4f5f8; }
  body { margin: 0 auto; max-width: 60rem; padding: 1rem; }
  h1 { font-size: 1.4rem; margin: 0 0 0.25rem; }
  header p { margin: 0 0 1rem; color: #4a5468; }
  main { display: flex; flex-wrap: wrap; gap: 1.5rem; }
  section { background: #fff; border-radius: 0.5rem; padding: 1rem; box-shadow: 0 1px 3px #0002; }
  #pad { display: block; width: min(280px, 80vw); aspect-ratio: 1; border: 1px solid #b8bfcc;
    border-radius: 0.25rem; touch-action: none; cursor: crosshair; background: #fff; }
  #pad:focus-visible, button:focus-visible, label:focus-within { outline: 3px solid #3867d6; outline-offset: 2px; }
  .buttons { display: flex; gap: 0.5rem; margin-top: 0.75rem; flex-wrap: wrap; }
  button, .file { font: inherit; padding: 0.4rem 0.9rem; border-radius: 0.25rem; border: 1px solid #3867d6;
    background: #fff; color: #3867d6; cursor: pointer; }
  button.primary { background: #3867d6; color: #fff; }
  .file input { position: absolute; opacity: 0; width: 1px; height: 1px; }
  .hint { color: #4a5468; font-size: 0.85rem; margin: 0.5rem 0 0; }
  .answer { flex: 1; min-width: 18rem; }
  .result { display: flex; align-items: baseline; gap: 1rem; }
  #digit { font-size: 4rem; font-weight: 700; line-height: 1; }
  #bars { list-style: none; padding: 0; margin: 1rem 0; }
  #bars li { display: grid; grid-template-columns: 1.2rem 1fr 3.5rem; align-items: center; gap: 0.5rem; }
  .bar { height: 0.8rem; background: #e4e7ee; border-radius: 0.2rem; overflow: hidden; }
  .fill { display: block; height: 100%; width: 0; background: #8a96b0; }
  #bars li.best .fill { background: #3867d6; }
  #bars li.best { font-weight: 700; }
  .value { text-align: right; font-variant-numeric: tabular-nums; font-size: 0.85rem; }
  figure { margin: 0; display: flex; align-items: center; gap: 0.75rem; }
  #seen { width: 112px; height: 112px; image-rendering: pixelated; border: 1px solid #b8bfcc; background: #000; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 0.75rem; font-size: 0.9rem; }
  dt { color: #4a5468; }
  dd { margin: 0; font-variant-numeric: tabular-nums; }
  #error { background: #fdecea; color: #8a1c12; padding: 0.5rem 0.75rem; border-radius: 0.25rem; }
</style>
</head>
<body>
<header>
  <h1>Draw a digit</h1>
  <p>Draw with a mouse, a finger or a pen, or drop, paste or choose a picture. Each replica of
  mnist-cluster serves this page; the answer says which one recognised the digit.</p>
</header>
<main>
  <section aria-label="Drawing">
    <canvas id="pad" width="280" height="280" tabindex="0"
      aria-label="Drawing area. Draw a digit; Enter recognises it, Delete clears it."></canvas>
    <div class="buttons">
      <button type="button" id="recognise" class="primary">Recognise</button>
      <button type="button" id="clear">Clear</button>
      <label class="file">Choose a picture…<input type="file" id="file" accept="image/*"></label>
    </div>
    <p class="hint">Or drop a picture on the pad, or paste one.</p>
    <p id="status" class="hint" aria-live="polite"></p>
  </section>
  <section class="answer" aria-label="Answer" aria-live="polite">
    <div class="result"><div id="digit">?</div><div id="confidence"></div></div>
    <p id="error" role="alert" hidden></p>
    <ol id="bars" aria-label="Probability of each digit">${Array.from({ length: 10 }, (_, d) => BAR(d)).join('')}</ol>
    <figure>
      <canvas id="seen" width="28" height="28" aria-label="The 28 by 28 input the model saw"></canvas>
      <figcaption>What the model saw: the picture normalised to 28x28, white ink on black.</figcaption>
    </figure>
    <dl id="facts"></dl>
  </section>
</main>
<script type="module" src="/app.js"></script>
</body>
</html>
`;

/**
 * GET /: the page to a browser, `index` (what this replica is and its endpoints) to an API client
 * (curl accepts anything); and the page's script at /app.js, `scriptFile` the compiled script
 * (tests pass another).
 */
export function registerPage(router: Router, index: () => object, scriptFile: URL = SCRIPT): void {
  router.get('/', (ctx) => {
    ctx.vary('Accept');
    if (ctx.accepts('json', 'html') === 'html') {
      ctx.type = 'text/html; charset=utf-8';
      ctx.body = PAGE;
    } else ctx.body = index();
  });
  let script: Buffer;
  try {
    script = readFileSync(scriptFile);
  } catch {
    throw new Error(`the drawing page's script ${scriptFile.pathname} is missing: run npm run build`);
  }
  router.get('/app.js', (ctx) => {
    ctx.type = 'text/javascript; charset=utf-8';
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = script;
  });
}
