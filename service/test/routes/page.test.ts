/**
 * The drawing page's script route on a router of its own: the compiled file's bytes, as
 * JavaScript that browsers revalidate, and a start-up error that says how to build it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import Router from '@koa/router';
import Koa from 'koa';
import { PAGE, registerPage } from '../../src/routes/page.ts';

describe("the drawing page's script", () => {
  it('is served as written, as JavaScript to revalidate on every load', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'page-test-')), 'app.js');
    const source = `console.log(${JSON.stringify('a digit ' + Math.random())});\n`;
    writeFileSync(file, source);
    const router = new Router();
    registerPage(router, () => ({}), pathToFileURL(file));
    const server = new Koa().use(router.routes()).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/app.js`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'text/javascript; charset=utf-8');
      assert.equal(res.headers.get('cache-control'), 'no-cache');
      assert.equal(await res.text(), source);
    } finally {
      server.close();
    }
  });

  it('is missing only if the build did not run, and start-up says so', () => {
    const missing = pathToFileURL(join(tmpdir(), 'no-such-dir', 'app.js'));
    assert.throws(() => registerPage(new Router(), () => ({}), missing), {
      message: `the drawing page's script ${missing.pathname} is missing: run npm run build`,
    });
  });

  it('is what the page loads, with ten probability bars and nothing between them', () => {
    assert.match(PAGE, /<script type="module" src="\/app\.js"><\/script>/);
    assert.equal(PAGE.match(/<li><span class="label">\d<\/span>/g)?.length, 10);
    for (let d = 0; d < 10; d++) assert.match(PAGE, new RegExp(`<span class="label">${d}</span>`));
    const list = /<ol id="bars"[^>]*>(.*)<\/ol>/.exec(PAGE)?.[1] ?? '';
    assert.equal(list.replaceAll(/<li>.*?<\/li>/g, ''), '', 'the list holds the bars and nothing else');
  });
});
