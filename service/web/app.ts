/**
 * The drawing page's behaviour: a canvas to draw a digit on with mouse, touch or pen (or a picture
 * dropped, pasted or chosen), sent to POST /predict?explain=1 as a multipart upload, and the
 * answer shown: the digit, the ten probabilities, the 28x28 input the model saw, the timings and
 * the replica that answered. No framework and no third-party code: the page works offline.
 */

interface Answer {
  digit: number;
  confidence: number;
  probabilities: number[];
  preprocess_ms: number;
  queue_ms: number;
  inference_ms: number;
  batch_size: number;
  model_version: string;
  backend: string;
  replica: string;
  explain: { model_input: number[]; crop: { x: number; y: number; width: number; height: number } | null };
}

interface ErrorAnswer {
  error: { code: string; message: string };
}

const $ = <T extends Element>(selector: string): T => {
  const element = document.querySelector<T>(selector);
  if (!element) throw new Error(`the page has no ${selector}`);
  return element;
};

const pad = $<HTMLCanvasElement>('#pad');
const pen = pad.getContext('2d')!;
const seen = $<HTMLCanvasElement>('#seen');
const statusLine = $<HTMLElement>('#status');
const problem = $<HTMLElement>('#error');
const bars = [...document.querySelectorAll<HTMLElement>('#bars li')];
/** Stroke width in canvas pixels: about a tenth of the pad, as thick as a marker. */
const STROKE = pad.width / 14;

let strokes = 0;
let last: { x: number; y: number } | undefined;
let timer: number | undefined;

function clearPad(): void {
  pen.fillStyle = '#fff';
  pen.fillRect(0, 0, pad.width, pad.height);
  strokes = 0;
  showAnswer(undefined);
  showError(undefined);
  statusLine.textContent = 'Draw a digit.';
}

function point(event: PointerEvent): { x: number; y: number } {
  const rect = pad.getBoundingClientRect();
  return {
    x: ((event.clientX - rect.left) * pad.width) / rect.width,
    y: ((event.clientY - rect.top) * pad.height) / rect.height,
  };
}

function line(from: { x: number; y: number }, to: { x: number; y: number }, pressure: number): void {
  pen.strokeStyle = '#000';
  pen.lineCap = 'round';
  pen.lineJoin = 'round';
  // A pen reports its pressure; a mouse reports 0.5 while a button is down.
  pen.lineWidth = STROKE * (0.6 + 0.8 * (pressure || 0.5));
  pen.beginPath();
  pen.moveTo(from.x, from.y);
  pen.lineTo(to.x, to.y);
  pen.stroke();
}

pad.addEventListener('pointerdown', (event) => {
  clearTimeout(timer);
  pad.setPointerCapture(event.pointerId);
  last = point(event);
  line(last, last, event.pressure);
});
pad.addEventListener('pointermove', (event) => {
  if (!last) return;
  for (const e of event.getCoalescedEvents?.() ?? [event]) {
    const next = point(e);
    line(last, next, e.pressure);
    last = next;
  }
});
for (const type of ['pointerup', 'pointercancel'] as const) {
  pad.addEventListener(type, () => {
    if (!last) return;
    last = undefined;
    strokes++;
    scheduleRecognition();
  });
}

/** Recognises a short moment after the last stroke, so that a digit of several strokes is sent once. */
function scheduleRecognition(): void {
  clearTimeout(timer);
  timer = window.setTimeout(() => void recogniseDrawing(), 350);
}

async function recogniseDrawing(): Promise<void> {
  if (strokes === 0) {
    statusLine.textContent = 'Draw a digit first.';
    return;
  }
  const blob = await new Promise<Blob | null>((resolve) => pad.toBlob(resolve, 'image/png'));
  if (blob) await send(blob, 'drawing.png');
}

/**
 * Longest side a picture is sent at. The service normalises a digit at a 160 px working size, so
 * a phone photo scaled to this loses nothing the model uses, and never meets the size limits.
 */
const SEND_SIDE = 1024;

/**
 * Shows a chosen, dropped or pasted picture on the pad, then sends it: as it is when small, scaled
 * down (losslessly encoded) when larger than SEND_SIDE, since the browser has decoded it anyway.
 */
async function recogniseFile(file: File): Promise<void> {
  clearPad();
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    // Not a picture the browser can show: the service says what it is.
    return send(file, file.name || 'picture');
  }
  const scale = Math.min(pad.width / bitmap.width, pad.height / bitmap.height);
  const [w, h] = [bitmap.width * scale, bitmap.height * scale];
  pen.drawImage(bitmap, (pad.width - w) / 2, (pad.height - h) / 2, w, h);
  const shrink = SEND_SIDE / Math.max(bitmap.width, bitmap.height);
  if (shrink >= 1) return send(file, file.name || 'picture');
  const small = document.createElement('canvas');
  [small.width, small.height] = [Math.round(bitmap.width * shrink), Math.round(bitmap.height * shrink)];
  const brush = small.getContext('2d')!;
  brush.imageSmoothingQuality = 'high';
  brush.drawImage(bitmap, 0, 0, small.width, small.height);
  const blob = await new Promise<Blob | null>((resolve) => small.toBlob(resolve, 'image/png'));
  const note = `the ${bitmap.width}x${bitmap.height} picture was sent scaled down to ${small.width}x${small.height}`;
  await send(blob ?? file, 'picture.png', blob ? note : undefined);
}

async function send(file: Blob, name: string, note?: string): Promise<void> {
  const form = new FormData();
  form.append('file', file, name);
  statusLine.textContent = 'Recognising…';
  const started = performance.now();
  let response: Response;
  try {
    response = await fetch('/predict?explain=1', { method: 'POST', body: form });
  } catch {
    showError('The service could not be reached.');
    statusLine.textContent = '';
    return;
  }
  const roundTrip = performance.now() - started;
  const body = (await response.json().catch(() => undefined)) as Answer | ErrorAnswer | undefined;
  if (!response.ok || !body || 'error' in body) {
    const error = body && 'error' in body ? body.error : { code: 'unknown', message: response.statusText };
    showAnswer(undefined);
    showError(`${response.status} ${error.code}: ${error.message}`);
    statusLine.textContent = '';
    return;
  }
  showError(undefined);
  showAnswer(body, roundTrip);
  revealAnswer();
  statusLine.textContent = `Recognised a ${body.digit}${note ? ` (${note})` : ''}.`;
}

function showError(message: string | undefined): void {
  problem.hidden = message === undefined;
  problem.textContent = message ?? '';
}

function showAnswer(answer: Answer | undefined, roundTrip = 0): void {
  $('#digit').textContent = answer ? String(answer.digit) : '?';
  $('#confidence').textContent = answer ? `${(answer.confidence * 100).toFixed(1)}% sure` : '';
  bars.forEach((bar, digit) => {
    const p = answer?.probabilities[digit] ?? 0;
    bar.querySelector<HTMLElement>('.fill')!.style.width = `${(p * 100).toFixed(1)}%`;
    bar.querySelector('.value')!.textContent = `${(p * 100).toFixed(1)}%`;
    bar.classList.toggle('best', answer?.digit === digit);
  });
  const view = seen.getContext('2d')!;
  const image = view.createImageData(28, 28);
  answer?.explain.model_input.forEach((v, i) => {
    image.data.fill(Math.round(v * 255), i * 4, i * 4 + 3);
  });
  for (let i = 3; i < image.data.length; i += 4) image.data[i] = 255;
  view.putImageData(image, 0, 0);
  const facts: [string, string][] = answer
    ? [
        ['replica', answer.replica],
        ['model', `${answer.model_version} (${answer.backend})`],
        ['decode + normalise', `${answer.preprocess_ms.toFixed(2)} ms`],
        ['queue', `${answer.queue_ms.toFixed(2)} ms`],
        ['inference', `${answer.inference_ms.toFixed(2)} ms (batch of ${answer.batch_size})`],
        ['round trip', `${roundTrip.toFixed(1)} ms`],
      ]
    : [];
  $('#facts').replaceChildren(
    ...facts.flatMap(([term, value]) => {
      const dt = document.createElement('dt');
      const dd = document.createElement('dd');
      dt.textContent = term;
      dd.textContent = value;
      dd.dataset.fact = term;
      return [dt, dd];
    }),
  );
}

$('#clear').addEventListener('click', clearPad);
$('#recognise').addEventListener('click', () => void recogniseDrawing());
$<HTMLInputElement>('#file').addEventListener('change', (event) => {
  const file = (event.target as HTMLInputElement).files?.[0];
  if (file) void recogniseFile(file);
});
pad.addEventListener('keydown', (event) => {
  if (['Delete', 'Backspace', 'Escape'].includes(event.key)) clearPad();
  else if (event.key === 'Enter') void recogniseDrawing();
  else return;
  event.preventDefault();
});
pad.addEventListener('dragover', (event) => event.preventDefault());
pad.addEventListener('drop', (event) => {
  event.preventDefault();
  const file = event.dataTransfer?.files[0];
  if (file) void recogniseFile(file);
});
document.addEventListener('paste', (event) => {
  const file = event.clipboardData?.files[0];
  if (file) void recogniseFile(file);
});

clearPad();

// A module (loaded with type="module"): its names stay out of the global scope.
export {};

/** On a phone the answer sits below the pad: bring the digit into view once it is there. */
function revealAnswer(): void {
  const digit = $('#digit').getBoundingClientRect();
  if (digit.bottom > window.innerHeight || digit.top < 0) $('.result').scrollIntoView({ block: 'nearest' });
}
