/**
 * The HTTP ceiling: POST a picture (raw, or in a form read by the service's own multipart parser),
 * get its digit, served by plain `node:http` with the compiled service's own decoder, batcher and
 * engine, and nothing else: no Koa, no router, no access log, no metrics, no request ids. `npm run bench` runs it under a 1-CPU quota beside the replicas, so
 * the gap between the limit and a replica splits into what serving over HTTP costs at all and what
 * the framework and the observability add on top.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { service: { type: 'string' } } });
const { createPipeline, fileFromForm, parseConfig } = (await import(
  values.service!
)) as typeof import('../../service/src/index.ts');

// The replica's own settings and defaults, from the same environment.
const config = parseConfig();
const { batcher, decoder } = await createPipeline(config);

function reply(res: ServerResponse, status: number, answer: object): void {
  const body = JSON.stringify(answer);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

async function predict(picture: () => Buffer, res: ServerResponse): Promise<void> {
  try {
    const { input } = await decoder.toModelInput(picture());
    const { prediction, batchSize } = await batcher.predict(input);
    reply(res, 200, { ...prediction, batch_size: batchSize });
  } catch (err) {
    reply(res, 400, { error: String(err) });
  }
}

const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  if (req.method !== 'POST') {
    req.resume();
    reply(res, 200, { status: 'ready' }); // what the bench's readiness poll asks for
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const type = req.headers['content-type'] ?? '';
    // A form goes through the service's own parser, so that the ceiling does the same work.
    void predict(() => (type.startsWith('multipart/form-data') ? fileFromForm(body, type) : body), res);
  });
});
server.listen(config.PORT, config.HOST);
process.on('SIGTERM', () => process.exit(0));
