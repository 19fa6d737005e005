/**
 * GET /openapi.json and /docs (Swagger UI) on a router of their own: the document as given, the
 * page that loads it, and the UI's assets as the package ships them, cached for a day.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Router from '@koa/router';
import Koa from 'koa';
import { registerDocs } from '../../src/routes/docs.ts';

const DOCUMENT = { openapi: '3.0.3', info: { title: 'a test', version: String(Math.random()) }, paths: {} };
const PACKAGE = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

describe('the API documentation routes', () => {
  let url: string;
  let server: ReturnType<Koa['listen']>;
  before(async () => {
    const router = new Router();
    registerDocs(router, DOCUMENT);
    server = new Koa().use(router.routes()).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  it('serves the OpenAPI document as given, as JSON', async () => {
    const res = await fetch(`${url}/openapi.json`);
    assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.deepEqual(await res.json(), DOCUMENT);
  });

  it('serves a page that loads Swagger UI from this server over that document', async () => {
    const res = await fetch(`${url}/docs`);
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
    const html = await res.text();
    for (const asset of ['/docs/swagger-ui.css', '/docs/swagger-ui-bundle.js'])
      assert.ok(html.includes(`"${asset}"`), asset);
    assert.match(html, /SwaggerUIBundle\(\{ url: '\/openapi\.json', dom_id: '#ui' \}\)/);
    assert.match(html, /<div id="ui"><\/div>/);
  });

  it("serves the UI's assets byte for byte with their type, cached for a day, and nothing else", async () => {
    const types = {
      'swagger-ui.css': 'text/css; charset=utf-8',
      'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
      'swagger-ui-standalone-preset.js': 'text/javascript; charset=utf-8',
    };
    for (const [name, type] of Object.entries(types)) {
      const res = await fetch(`${url}/docs/${name}`);
      assert.equal(res.status, 200, name);
      assert.equal(res.headers.get('content-type'), type, name);
      assert.equal(res.headers.get('cache-control'), 'public, max-age=86400', name);
      assert.ok(Buffer.from(await res.arrayBuffer()).equals(readFileSync(join(PACKAGE, name))), name);
    }
    for (const name of ['index.html', 'package.json', 'swagger-ui.js', '..%2Fpackage.json']) {
      const res = await fetch(`${url}/docs/${name}`);
      assert.equal(res.status, 404, name);
      assert.equal(res.headers.get('cache-control'), null, name);
    }
  });
});
