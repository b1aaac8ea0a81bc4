// The signing desk's preview (/sign/documents/{id}): draws the document's first and last pages
// with pdf.js (pinned in crates/web/package-lock.json, embedded in the binary) and the stamp's
// frame on the last page. Dragging the frame sets the form's across/up fields; typing in them
// moves the frame. Without this script (or if the document cannot be drawn) the fields alone
// place the stamp, so the page works by keyboard and without JavaScript.
//
// The geometry is qrid-pdf's (crates/pdf/src/sign.rs): a 300 x 100 pt stamp, 24 pt from the
// page's edges at the extremes, its lower-left corner at (across, up) thousandths of the room
// the page leaves for it.

const STAMP_W = 300;
const STAMP_H = 100;
const MARGIN = 24;
// Pixels the page is drawn across (CSS pixels; the canvas has device pixels).
const DRAW_WIDTH = 420;

const el = document.getElementById('preview');
const xIn = document.getElementById('x');
const yIn = document.getElementById('y');
const box = document.getElementById('stamp-box');
const lastCanvas = document.getElementById('last-page');
const firstCanvas = document.getElementById('first-page');
const status = document.getElementById('preview-status');

const pageW = Number(el.dataset.width) || 595;
const pageH = Number(el.dataset.height) || 842;
let scale = DRAW_WIDTH / pageW;

function clamp(v) {
  return Math.min(1000, Math.max(0, Math.round(v)));
}

function sizeCanvas(canvas, w, h) {
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(w * dpr);
  canvas.height = Math.round(h * dpr);
  canvas.style.width = `${Math.round(w)}px`;
  canvas.style.height = `${Math.round(h)}px`;
}

// Where the frame goes for the fields' values, in CSS pixels from the canvas's top left.
function placeBox() {
  const fx = clamp(Number(xIn.value)) / 1000;
  const fy = clamp(Number(yIn.value)) / 1000;
  const sx = MARGIN + fx * (pageW - STAMP_W - 2 * MARGIN);
  const sy = MARGIN + fy * (pageH - STAMP_H - 2 * MARGIN);
  box.style.left = `${sx * scale}px`;
  box.style.top = `${(pageH - sy - STAMP_H) * scale}px`;
  box.style.width = `${STAMP_W * scale}px`;
  box.style.height = `${STAMP_H * scale}px`;
}

// The fields' values for the frame's top-left corner at (left, top) CSS pixels.
function fromBox(left, top) {
  const roomX = pageW - STAMP_W - 2 * MARGIN;
  const roomY = pageH - STAMP_H - 2 * MARGIN;
  const sx = left / scale;
  const sy = pageH - top / scale - STAMP_H;
  xIn.value = String(clamp(((sx - MARGIN) / roomX) * 1000));
  yIn.value = String(clamp(((sy - MARGIN) / roomY) * 1000));
  placeBox();
}

let drag = null;
box.addEventListener('pointerdown', (e) => {
  drag = { dx: e.clientX - box.offsetLeft, dy: e.clientY - box.offsetTop };
  box.setPointerCapture(e.pointerId);
  e.preventDefault();
});
box.addEventListener('pointermove', (e) => {
  if (drag) fromBox(e.clientX - drag.dx, e.clientY - drag.dy);
});
box.addEventListener('pointerup', () => {
  drag = null;
});
xIn.addEventListener('input', placeBox);
yIn.addEventListener('input', placeBox);

async function draw(doc, number, canvas) {
  const page = await doc.getPage(number);
  const base = page.getViewport({ scale: 1 });
  const viewport = page.getViewport({ scale: DRAW_WIDTH / base.width });
  sizeCanvas(canvas, viewport.width, viewport.height);
  const dpr = window.devicePixelRatio || 1;
  await page.render({
    canvasContext: canvas.getContext('2d'),
    viewport,
    transform: dpr === 1 ? null : [dpr, 0, 0, dpr, 0, 0],
  }).promise;
  return viewport;
}

async function main() {
  const started = performance.now();
  // Blank pages of the right shape first: the frame is usable before pdf.js has loaded.
  sizeCanvas(firstCanvas, DRAW_WIDTH, (pageH / pageW) * DRAW_WIDTH);
  sizeCanvas(lastCanvas, DRAW_WIDTH, (pageH / pageW) * DRAW_WIDTH);
  placeBox();
  try {
    const pdfjs = await import(el.dataset.pdfjs);
    pdfjs.GlobalWorkerOptions.workerSrc = el.dataset.worker;
    // No eval (the CSP forbids it), no network but the document itself.
    const doc = await pdfjs.getDocument({
      url: el.dataset.pdf,
      isEvalSupported: false,
      withCredentials: true,
    }).promise;
    await draw(doc, 1, firstCanvas);
    const last = await draw(doc, doc.numPages, lastCanvas);
    scale = last.width / pageW;
    placeBox();
    el.dataset.renderedMs = String(Math.round(performance.now() - started));
    el.dataset.state = 'drawn';
    status.textContent = '';
  } catch (err) {
    el.dataset.state = 'failed';
    status.textContent = '';
    document.getElementById('preview-failed').hidden = false;
    console.error('preview failed', err);
  }
}

main();
