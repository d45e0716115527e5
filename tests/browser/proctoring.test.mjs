// Proctoring through the pages, on real parts only: the identity step refuses a selfie of
// Chromium's fake camera (a synthetic pattern, no face) with the real face models; a
// written test monitored over WebRTC with that same camera gets a FACE_ABSENT flag from
// the server's frame sampling and face detection; the reviewer finds the session in the
// queue, reads its timeline, confirms the flag with a comment, validates the session.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cameraContext, setUp, openAs, identityByApi } from './harness.mjs';

const shortBank = fileURLToPath(new URL('../data/bank-short', import.meta.url));
/** How long the written test runs under the camera before it is finished. */
const MONITORED_MS = 10_000;
const env = setUp({ serverArgs: ['--bank', shortBank, '--item-pause-ms', '0'] });

/** fetch() from the page, JSON in and out; throws on an unexpected status. */
function call(page, method, path, body) {
  return page.evaluate(async ({ method, path, body }) => {
    const res = await fetch(path, {
      method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }, { method, path, body });
}

test('identity: the fake camera has no face, the selfie is refused and nothing is stored', async () => {
  const { page, errors } = await openAs(env.context, env.server.links.candidate);
  await page.goto(`${env.server.base}/static/identity.html`);

  // The camera runs in the capture frame before the photo can be taken.
  const capture = page.getByTestId('capture-selfie');
  await capture.waitFor();
  await page.waitForFunction(() => {
    const v = document.querySelector('[data-testid="identity-camera"]');
    return v && v.readyState >= 2 && v.videoWidth > 0;
  });
  assert.equal(await capture.getAttribute('aria-disabled'), 'false');

  const sent = page.waitForResponse((r) => r.url().endsWith('/api/v1/me/identity/selfie') && r.request().method() === 'PUT');
  await capture.click();
  const res = await sent;
  assert.equal(res.status(), 422);
  assert.equal((await res.json()).error.code, 'no_face');
  assert.equal(res.request().headers()['content-type'], 'image/jpeg');

  const feedback = page.getByTestId('identity-feedback');
  await page.waitForFunction(() => document.querySelector('[data-testid="identity-feedback"]').dataset.code !== '');
  assert.equal(await feedback.getAttribute('data-code'), 'no_face');
  assert.ok(await feedback.isVisible(), 'the refusal is visible');
  // The page is in French (the context's locale): the words of the refusal, not a code.
  assert.match(await feedback.innerText(), /Aucun visage détecté/);
  assert.equal(await page.getByTestId('progress-selfie').getAttribute('data-done'), 'false');
  assert.equal(await page.getByTestId('identity-done').isVisible(), false);

  // Nothing was stored: the step still waits for its selfie.
  const identity = await call(page, 'GET', '/api/v1/me/identity');
  assert.equal(identity.selfie, false);
  assert.equal(identity.done, false);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a monitored written test with no face: FACE_ABSENT, confirmed by the reviewer, session validated', async (t) => {
  const t0 = Date.now();
  // A fresh candidate of the demo centre (the demo one took the identity test above).
  const staff = await env.browser.newContext({ locale: 'fr-FR' });
  const { page: admin } = await openAs(staff, env.server.links.centre_admin);
  const created = await call(admin, 'POST', '/api/v1/candidates', {
    email: `proctored-${Date.now()}@example.org`, first_names: 'Ada', last_name: 'Lovelace', cefr_target: 'B1',
  });

  const candidateContext = await cameraContext(env.browser);
  // The page's connections, to read their statistics (the page code is not changed).
  await candidateContext.addInitScript(() => {
    const Native = window.RTCPeerConnection;
    window.__peers = [];
    window.RTCPeerConnection = class extends Native {
      constructor(...args) {
        super(...args);
        window.__peers.push(this);
      }
    };
  });
  const { page: candidate, errors } = await openAs(candidateContext, created.sign_in_url);
  await call(candidate, 'PUT', '/api/v1/me/profile', {
    birth_name: 'LOVELACE', first_names: 'Ada', birth_date: '1990-12-10', sex: 'F', birth_commune: 'Londres', birth_country: 'Royaume-Uni',
  });
  await identityByApi(candidate);
  await candidate.reload();

  // The written test starts in the page; the monitoring widget publishes the camera.
  await candidate.getByTestId('start-written').click();
  await candidate.waitForURL('**/test.html?**');
  const sessionId = new URL(candidate.url()).searchParams.get('id');
  assert.ok(sessionId, 'the session id is in the address');
  await candidate.getByTestId('item').waitFor();
  await candidate.getByTestId('monitor').waitFor();
  const cameraOn = Date.now();

  // The self-view plays the camera: frames arrive and time moves on.
  await candidate.waitForFunction(() => {
    const v = document.querySelector('[data-testid="self-view"]');
    return v && v.readyState >= 2 && v.videoWidth > 0 && !v.paused;
  });
  const t1 = await candidate.evaluate(() => document.querySelector('[data-testid="self-view"]').currentTime);
  await candidate.waitForTimeout(1000);
  const t2 = await candidate.evaluate(() => document.querySelector('[data-testid="self-view"]').currentTime);
  assert.ok(t2 > t1, `the self-view plays (${t1} → ${t2})`);

  // The connection to the media server comes up and sends video.
  const peerStats = () => candidate.evaluate(async () => {
    const pc = window.__peers.at(-1);
    if (!pc) return null;
    const out = { state: pc.connectionState, ice: pc.iceConnectionState, video: null, codec: null };
    const stats = await pc.getStats();
    for (const s of stats.values()) {
      if (s.type === 'outbound-rtp' && s.kind === 'video') {
        out.video = { bytesSent: s.bytesSent, framesEncoded: s.framesEncoded, keyFramesEncoded: s.keyFramesEncoded, pliCount: s.pliCount, firCount: s.firCount, encoder: s.encoderImplementation, width: s.frameWidth, height: s.frameHeight };
        out.codec = stats.get(s.codecId)?.mimeType ?? null;
      }
    }
    return out;
  });
  await candidate.waitForFunction(() => window.__peers.at(-1)?.connectionState === 'connected', null, { timeout: 15_000 })
    .catch(async () => assert.fail(`the monitoring connection did not come up: ${JSON.stringify(await peerStats())}`));

  // The camera runs for a while with nobody in front of it (the timeouts of the short
  // bank's items move the test on meanwhile).
  await candidate.waitForTimeout(Math.max(0, MONITORED_MS - (Date.now() - cameraOn)));
  const sending = await peerStats();
  assert.equal(sending.state, 'connected', JSON.stringify(sending));
  assert.match(sending.codec ?? '', /H264/i, `the camera goes as H264: ${JSON.stringify(sending)}`);
  // The monitoring's shape: half the camera's size, 5 frames a second (10 s: about 50).
  assert.ok(sending.video.framesEncoded > 25 && sending.video.framesEncoded < 80, `5 frames a second are sent: ${JSON.stringify(sending)}`);
  assert.equal(sending.video.width, 320, `at 320 wide: ${JSON.stringify(sending)}`);
  const kbps = (sending.video.bytesSent * 8) / 1000 / ((Date.now() - cameraOn) / 1000);
  assert.ok(kbps < 300, `under 300 kbit/s: ${kbps}`);
  assert.ok(sending.video.keyFramesEncoded >= 2, `the server asked for keyframes: ${JSON.stringify(sending)}`);
  // The server says it receives the camera: no warning.
  assert.equal(await candidate.getByTestId('camera-warning').isVisible(), false);
  assert.equal(await candidate.getByTestId('monitor').getAttribute('data-warning'), 'false');

  // Then the test is finished quickly, through the API (its pages are tested elsewhere).
  await candidate.evaluate(async (id) => {
    const call = async (method, path, body) => {
      const res = await fetch(path, { method, headers: body ? { 'Content-Type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
      // The page polls the same session: an item it already saw time out is not an error.
      if (res.status === 409) return null;
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
      return res.json();
    };
    const answer = (item) => {
      const gaps = item.gaps ? item.gaps.length : 0;
      if (item.type === 'listening' && item.response !== 'choice') return { typed: Array(gaps).fill('x') };
      return { choice: 0 }; // the short bank: choice and listening items
    };
    let view = await call('GET', `/api/v1/written/${id}`);
    for (let n = 0; view.status !== 'finished' && n < 200; n++) {
      if (view.status === 'item') await call('POST', `/api/v1/written/${id}/answers`, { item_id: view.item.id, response: answer(view.item) });
      view = await call('GET', `/api/v1/written/${id}`);
    }
    if (view.status !== 'finished') throw new Error(`the test did not finish: ${JSON.stringify(view)}`);
  }, sessionId);
  await candidate.getByTestId('monitor').waitFor({ state: 'hidden', timeout: 15_000 });
  const finishedAt = Date.now();

  // The reviewer's queue shows the session once the monitor stored its events.
  const { page: reviewer, errors: reviewerErrors } = await openAs(staff, env.server.links.reviewer);
  const me = await call(reviewer, 'GET', '/api/v1/me');
  let row = null;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const queue = await call(reviewer, 'GET', '/api/v1/reviews');
    row = queue.find((r) => r.session_id === sessionId) ?? null;
    if (row && row.events.medium + row.events.high > 0) break;
    await reviewer.waitForTimeout(1000);
  }
  assert.ok(row, 'the session is in the reviewer\'s queue');
  assert.ok(row.events.medium + row.events.high > 0, `a flagged event within 30 s: ${JSON.stringify(row)}`);
  const storedAfterMs = Date.now() - finishedAt;

  // The queue page lists it, with a link to its review.
  await reviewer.getByTestId('go-review').click();
  const queueRow = reviewer.locator(`[data-testid="review-row"][data-session-id="${sessionId}"]`);
  await queueRow.waitFor();
  await queueRow.getByTestId('open-review').click();
  await reviewer.waitForURL(`**/review-session.html?session=${sessionId}*`);

  // The session's page: items and events on the timeline.
  const detailBefore = await call(reviewer, 'GET', `/api/v1/reviews/${sessionId}`);
  const absent = detailBefore.events.find((e) => e.kind === 'FACE_ABSENT');
  assert.ok(absent, `FACE_ABSENT among the events: ${JSON.stringify(detailBefore.events.map((e) => e.kind))}`);
  assert.ok(absent.end_offset_ms - absent.start_offset_ms >= 4000, `no face for at least 4 s: ${JSON.stringify(absent)}`);
  assert.ok(absent.thumbnails.length > 0, 'the event has thumbnails');
  const timeline = reviewer.getByTestId('timeline');
  await timeline.waitFor();
  assert.ok((await timeline.locator('.tl-items .tl-item').count()) >= 1, 'the items track shows the questions');
  assert.equal(await timeline.locator('.tl-items .tl-item').count(), detailBefore.items.length);
  const button = reviewer.locator(`[data-testid="timeline-event"][data-event-id="${absent.id}"]`);
  assert.equal(await button.getAttribute('data-severity'), absent.severity);
  assert.equal(await button.getAttribute('data-status'), 'pending');

  // Selected: the detail with its thumbnails, loaded.
  await button.click();
  const detail = reviewer.getByTestId('event-detail');
  await detail.waitFor();
  assert.equal(await button.getAttribute('aria-pressed'), 'true');
  const thumbs = detail.getByTestId('thumbnails').locator('img');
  assert.equal(await thumbs.count(), absent.thumbnails.length);
  for (let i = 0; i < (await thumbs.count()); i++) {
    await thumbs.nth(i).scrollIntoViewIfNeeded();
    await reviewer.waitForFunction((img) => img.complete && img.naturalWidth > 0, await thumbs.nth(i).elementHandle());
  }

  // The clip: its frames, stepped through with the slider, load one after the other.
  const clip = detail.getByTestId('clip');
  const frame = clip.locator('img.clip-frame');
  const loaded = async () => reviewer.waitForFunction((img) => img.complete && img.naturalWidth > 0, await frame.elementHandle());
  await loaded();
  assert.equal(new URL(await frame.evaluate((img) => img.src)).pathname, absent.clip[0].url);
  await clip.getByTestId('clip-position').fill(String(absent.clip.length - 1));
  await reviewer.waitForFunction((url) => new URL(document.querySelector('img.clip-frame').src).pathname === url, absent.clip.at(-1).url);
  await loaded();

  // Confirmed, with what the reviewer saw.
  const comment = 'Nobody in front of the camera: only the test pattern is visible.';
  await detail.getByTestId('event-comment').fill(comment);
  await detail.getByTestId('confirm-event').click();
  await reviewer.waitForFunction(() => document.querySelector('[data-testid="event-status"]')?.dataset.status === 'confirmed');
  await reviewer.waitForFunction((id) => document.querySelector(`[data-testid="timeline-event"][data-event-id="${id}"]`)?.dataset.status === 'confirmed', absent.id);
  const audit = reviewer.getByTestId('audit-log').locator('li[data-action="confirmed"]');
  await audit.first().waitFor();
  assert.match(await audit.first().innerText(), /Nobody in front of the camera/);
  // "Vous": the signed-in reviewer.
  const fr = JSON.parse(readFileSync(new URL('../../web/i18n/fr.json', import.meta.url), 'utf8'));
  assert.equal(await audit.first().locator('.audit-who').innerText(), fr['review.audit.you']);

  const detailAfter = await call(reviewer, 'GET', `/api/v1/reviews/${sessionId}`);
  const stored = detailAfter.events.find((e) => e.id === absent.id);
  assert.equal(stored.status, 'confirmed');
  assert.equal(stored.comment, comment);
  const entry = detailAfter.audit.find((a) => a.action === 'confirmed' && a.event_id === absent.id);
  assert.ok(entry, `a confirmed entry in the audit log: ${JSON.stringify(detailAfter.audit)}`);
  assert.equal(entry.reviewer_id, me.id);
  assert.equal(entry.comment, comment);

  // Any other event still pending is dismissed (the session cannot be decided before).
  for (const e of detailAfter.events.filter((x) => x.status === 'pending' && x.severity !== 'info')) {
    await reviewer.locator(`[data-testid="timeline-event"][data-event-id="${e.id}"]`).click();
    await reviewer.getByTestId('event-comment').fill('Seen, not relevant.');
    await reviewer.getByTestId('dismiss-event').click();
    await reviewer.waitForFunction(() => document.querySelector('[data-testid="event-status"]')?.dataset.status === 'dismissed');
  }

  // The session is validated; the decision is stored.
  await reviewer.getByTestId('validate-session').click();
  await reviewer.waitForFunction(() => /\b(ok|error)\b/.test(document.querySelector('[data-testid="decision-status"]').className));
  assert.match(await reviewer.getByTestId('decision-status').getAttribute('class'), /\bok\b/,
    await reviewer.getByTestId('decision-status').innerText());
  assert.equal(await reviewer.getByTestId('session-status').getAttribute('data-status'), 'validated');
  assert.equal(await reviewer.getByTestId('decision-form').isVisible(), false);
  const decided = await call(reviewer, 'GET', `/api/v1/reviews/${sessionId}`);
  assert.equal(decided.status, 'validated');
  assert.ok(decided.decision?.decided_at, 'the decision has its time');
  assert.ok(decided.audit.some((a) => a.action === 'validated' && a.reviewer_id === me.id));
  const queue = await call(reviewer, 'GET', '/api/v1/reviews');
  assert.equal(queue.find((r) => r.session_id === sessionId).status, 'validated');

  assert.deepEqual(errors, []);
  assert.deepEqual(reviewerErrors, []);
  t.diagnostic(`camera on ${MONITORED_MS} ms; events stored ${storedAfterMs} ms after the end; `
    + `events ${JSON.stringify(detailBefore.events.map((e) => [e.kind, e.severity, e.start_offset_ms, e.end_offset_ms]))}; `
    + `sent ${JSON.stringify(sending)}; ${Date.now() - t0} ms in all`);
  await staff.close();
  await candidateContext.close();
});
