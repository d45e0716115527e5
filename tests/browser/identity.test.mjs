// The identity step through the page with a face in front of the camera: Chromium's fake
// camera plays a still of the fixture photo (cropped to the face), the real face models
// accept the selfie then the document, and each accepted photo shows as a thumbnail;
// after a reload (the server does not give the photos back) each shows as accepted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setUp, openAs, launch } from './harness.mjs';

let dir;

/** A 640×480 JPEG of the fixture's face, drawn by Chromium (no image tool needed). */
async function faceJpeg() {
  const { browser: drawer, context: c } = await launch();
  const page = await c.newPage();
  const png = readFileSync(new URL('../../models/fixtures/astronaut.png', import.meta.url)).toString('base64');
  const jpeg = await page.evaluate(async (b64) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = 640;
    canvas.height = 480;
    const g = canvas.getContext('2d');
    g.fillStyle = '#888';
    g.fillRect(0, 0, 640, 480);
    // The face of the 512×512 photo, large in the middle of the frame.
    g.drawImage(img, 150, 20, 200, 200, 120, 40, 400, 400);
    return canvas.toDataURL('image/jpeg', 0.92).split(',')[1];
  }, png);
  await drawer.close();
  return Buffer.from(jpeg, 'base64');
}

const env = setUp({
  // A single JPEG as .mjpeg: the fake camera shows it over and over.
  launchOptions: async () => {
    dir = mkdtempSync(join(tmpdir(), 'langcert-face-'));
    const file = join(dir, 'face.mjpeg');
    writeFileSync(file, await faceJpeg());
    return { args: [`--use-file-for-fake-video-capture=${file}`] };
  },
  cleanUp: () => dir && rmSync(dir, { recursive: true, force: true }),
});

/** The thumbnail of an accepted photo: shown, loaded, its size on the page. */
function thumbnail(page, kind) {
  return page.evaluate((kind) => {
    const img = document.querySelector(`[data-testid="still-${kind}-img"]`);
    const box = img.getBoundingClientRect();
    const video = document.querySelector('[data-testid="identity-camera"]');
    return {
      shown: !img.hidden && box.width > 0 && box.height > 0,
      blob: img.src.startsWith('blob:'),
      loaded: img.complete && img.naturalWidth > 0,
      natural: [img.naturalWidth, img.naturalHeight],
      video: video ? [video.videoWidth, video.videoHeight] : null,
      width: box.width,
      alt: img.alt,
    };
  }, kind);
}

test('identity: each accepted photo shows as a thumbnail; after a reload, as accepted', async () => {
  const { page, errors } = await openAs(env.context, env.server.links.candidate);
  await page.goto(`${env.server.base}/static/identity.html`);
  const cameraReady = () => page.waitForFunction(() => {
    const v = document.querySelector('[data-testid="identity-camera"]');
    return v && v.readyState >= 2 && v.videoWidth > 0;
  });

  // The selfie: accepted, its thumbnail from the captured frame, small.
  await cameraReady();
  assert.equal(await page.getByTestId('still-selfie').isVisible(), false, 'no thumbnail before the photo');
  await page.getByTestId('capture-selfie').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="progress-selfie"]').dataset.done === 'true', null, { timeout: 20_000 });
  await page.waitForFunction(() => document.querySelector('[data-testid="still-selfie-img"]').naturalWidth > 0);
  const selfie = await thumbnail(page, 'selfie');
  assert.equal(selfie.shown, true, 'the selfie thumbnail is shown');
  assert.equal(selfie.blob, true, 'it is the captured picture, from memory');
  assert.equal(selfie.loaded, true);
  assert.deepEqual(selfie.natural, selfie.video, 'the whole captured frame');
  assert.ok(selfie.width <= 160, `a small thumbnail (${selfie.width}px wide)`);
  assert.match(selfie.alt, /photo de vous/i);
  assert.equal(await page.getByTestId('still-document').isVisible(), false, 'no document thumbnail yet');
  assert.equal(await page.getByTestId('still-selfie-note').isVisible(), false);

  // The document: accepted too; both thumbnails, the step done.
  await cameraReady();
  await page.getByTestId('capture-document').click();
  await page.getByTestId('identity-done').waitFor({ timeout: 20_000 });
  await page.waitForFunction(() => document.querySelector('[data-testid="still-document-img"]').naturalWidth > 0);
  for (const kind of ['selfie', 'document']) {
    const still = await thumbnail(page, kind);
    assert.equal(still.shown && still.blob && still.loaded, true, `the ${kind} thumbnail is shown`);
    assert.ok(still.width <= 160, `a small ${kind} thumbnail (${still.width}px wide)`);
  }
  assert.notEqual(await page.getByTestId('still-selfie-img').getAttribute('src'), await page.getByTestId('still-document-img').getAttribute('src'));

  // After a reload the server only says both are accepted: "✓ accepted", no picture.
  await page.reload();
  await page.getByTestId('identity-done').waitFor();
  for (const kind of ['selfie', 'document']) {
    assert.equal(await page.getByTestId(`still-${kind}`).isVisible(), true, `the ${kind} is shown as accepted`);
    assert.match(await page.getByTestId(`still-${kind}`).innerText(), /✓/);
    assert.equal(await page.getByTestId(`still-${kind}-img`).isVisible(), false, 'no picture to show');
    const note = page.getByTestId(`still-${kind}-note`);
    assert.equal(await note.isVisible(), true, 'the missing preview is explained');
    assert.match(await note.innerText(), /aperçu/);
  }
  assert.deepEqual(errors, []);
  await page.close();
});
