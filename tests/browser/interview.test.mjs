// The oral interview in two browsers (Chromium's fake camera and microphone): the
// candidate waits in the waiting room, the evaluator admits them, and each page then
// shows the other's video actually playing (videoWidth > 0, framesDecoded increasing in
// getStats) and audio arriving — media through the server's SFU on loopback. The room
// opens 15 minutes before its time, not earlier; once ended, every page says so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cameraContext, setUp, openAs, trackPeers, playing } from './harness.mjs';

const env = setUp();

test('the room does not open earlier than 15 minutes before the interview', async () => {
  const adminContext = await env.browser.newContext({ locale: 'fr-FR' });
  const { page: admin } = await openAs(adminContext, env.server.links.centre_admin);
  const evaluatorContext = await cameraContext(env.browser);
  const { page: evaluatorPage } = await openAs(evaluatorContext, env.server.links.evaluator);
  const evaluatorId = await evaluatorPage.evaluate(async () => (await (await fetch('/api/v1/me')).json()).id);
  // A candidate of their own, and an interview in an hour.
  const { interview, at } = await admin.evaluate(async (evaluator) => {
    const post = async (path, body) => {
      const res = await fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      if (res.status !== 201) throw new Error(await res.text());
      return res.json();
    };
    const c = await post('/api/v1/candidates', { email: 'early@example.org', first_names: 'Eli', last_name: 'Early', cefr_target: 'B1' });
    const when = new Date(Date.now() + 3600e3);
    const i = await post('/api/v1/interviews', { candidate_id: c.id, evaluator_id: evaluator, scheduled_at: when.toISOString() });
    return { interview: i.id, at: i.opens_at };
  }, evaluatorId);
  await evaluatorPage.goto(`${env.server.base}/static/evaluator-interview.html?id=${interview}`);
  const notice = evaluatorPage.getByTestId('room-state');
  await notice.waitFor({ timeout: 15_000 });
  assert.equal(await notice.getAttribute('data-state'), 'not_open');
  const opens = new Date(at);
  const pad = (n) => String(n).padStart(2, '0');
  const when = [`${pad(opens.getDate())}/${pad(opens.getMonth() + 1)}/${opens.getFullYear()}`, `${pad(opens.getHours())}:${pad(opens.getMinutes())}`];
  const text = await notice.innerText();
  assert.ok(when.every((w) => text.includes(w)), `the room says when it opens (${when.join(' ')}): ${text}`);
  assert.ok(Math.abs(opens.getTime() - (Date.now() + 45 * 60e3)) < 60e3, 'it opens 15 minutes before the hour');
  // Nothing of the room is usable: no media grant, no step.
  await evaluatorPage.waitForTimeout(1000);
  assert.equal(await evaluatorPage.getByTestId('id-checked').isDisabled(), true);
  // Scoring is not offered for it in the console either.
  await evaluatorPage.goto(`${env.server.base}/static/evaluator.html`);
  await evaluatorPage.getByTestId(`score-later-${interview}`).waitFor();
  assert.equal(await evaluatorPage.getByTestId(`score-${interview}`).count(), 0);
  // The centre decides whether a candidate who misses an interview books the next one.
  await admin.goto(`${env.server.base}/static/centre.html`);
  const rebook = admin.getByTestId('rebook-after-no-show');
  await admin.waitForFunction(() => document.querySelector('[data-testid="rebook-after-no-show"]')?.checked === true);
  await rebook.uncheck();
  await admin.getByTestId('save-settings').click();
  await admin.waitForFunction(() => document.querySelector('[data-testid="settings-status"]')?.classList.contains('ok'));
  const stored = await admin.evaluate(async () => {
    const me = await (await fetch('/api/v1/me')).json();
    return (await (await fetch(`/api/v1/centres/${me.centre_id}`)).json()).rebook_after_no_show;
  });
  assert.equal(stored, false, 'the setting is stored');
  // Put back (the server is shared by the next test).
  await rebook.check();
  await admin.getByTestId('save-settings').click();
  await admin.waitForFunction(async () => {
    const me = await (await fetch('/api/v1/me')).json();
    return (await (await fetch(`/api/v1/centres/${me.centre_id}`)).json()).rebook_after_no_show;
  });
  await adminContext.close();
  await evaluatorContext.close();
  env.server.newLinks();
});

test('the candidate waits, the evaluator admits, both see and hear each other', async () => {
  // An interview in five minutes between the demo candidate and evaluator (its room is
  // open: it opens 15 minutes before).
  const adminContext = await env.browser.newContext({ locale: 'fr-FR' });
  const { page: admin } = await openAs(adminContext, env.server.links.centre_admin);
  const ids = await admin.evaluate(async () => {
    const candidates = await (await fetch('/api/v1/candidates')).json();
    return { candidate: candidates.find((c) => c.email !== 'early@example.org').id };
  });
  const evaluatorContext = await cameraContext(env.browser);
  await evaluatorContext.addInitScript(trackPeers);
  const { page: evaluatorPage } = await openAs(evaluatorContext, env.server.links.evaluator);
  const evaluatorId = await evaluatorPage.evaluate(async () => (await (await fetch('/api/v1/me')).json()).id);
  const interview = await admin.evaluate(async ({ candidate, evaluator }) => {
    const res = await fetch('/api/v1/interviews', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ candidate_id: candidate, evaluator_id: evaluator, scheduled_at: new Date(Date.now() + 5 * 60e3).toISOString() }),
    });
    if (res.status !== 201) throw new Error(await res.text());
    return (await res.json()).id;
  }, { candidate: ids.candidate, evaluator: evaluatorId });

  // The candidate: media check with the kept stream, then the waiting room.
  const candidateContext = await cameraContext(env.browser);
  await candidateContext.addInitScript(trackPeers);
  const { page: candidate } = await openAs(candidateContext, env.server.links.candidate);
  await candidate.goto(`${env.server.base}/interview/${interview}`);
  await candidate.waitForFunction(() => document.querySelector('[data-testid="local-video"]')?.videoWidth > 0, null, { timeout: 15_000 });
  await candidate.getByTestId('join-waiting').click();
  await candidate.getByTestId('waiting').waitFor();

  // The evaluator sees them arrive and admits them.
  await evaluatorPage.goto(`${env.server.base}/static/evaluator-interview.html?id=${interview}`);
  await evaluatorPage.getByTestId(`waiting-${ids.candidate}`).waitFor({ timeout: 15_000 });
  await evaluatorPage.getByTestId(`admit-${ids.candidate}`).click();

  await playing(candidate);
  await playing(evaluatorPage);
  // The interview's steps, in order.
  await evaluatorPage.getByTestId('id-checked').click();
  await evaluatorPage.getByTestId('start-interview').click();
  await candidate.waitForFunction(() => document.querySelector('[data-testid="interview-state"]')?.dataset.state === 'in_progress', null, { timeout: 10_000 });
  const prompts = await evaluatorPage.getByTestId('prompts-role_play').innerText();
  assert.ok(prompts.length > 20, 'a role-play situation for the target level');
  await evaluatorPage.waitForTimeout(6000);
  await evaluatorPage.getByTestId('end-interview').click();
  await candidate.waitForFunction(() => document.querySelector('[data-testid="interview-state"]')?.dataset.state === 'ended', null, { timeout: 10_000 });
  const sentSeconds = await candidate.evaluate(() => (performance.now() - window.__t0) / 1000);
  // Every page says it ended: the candidate's (also after a reload), the evaluator's room,
  // and the centre's table.
  await candidate.getByTestId('outcome').waitFor();
  assert.equal(await candidate.getByTestId('outcome').getAttribute('data-kind'), 'ended');
  assert.match(await candidate.getByTestId('outcome').innerText(), /terminé/);

  // The recording of the candidate's camera: a WebM file Chromium plays, as long as the
  // camera sent (±10 %).
  const recording = await evaluatorPage.evaluate(async ({ room, candidate }) => {
    for (let attempt = 0; attempt < 40; attempt++) {
      const list = await (await fetch(`/api/v1/interviews/${room}/recordings`)).json();
      const file = list.find((r) => r.kind === 'video' && r.name.startsWith(candidate));
      if (file) {
        const v = document.createElement('video');
        v.muted = true;
        v.src = `${file.url}?attempt=${attempt}`;
        document.body.append(v);
        await new Promise((ok, ko) => { v.onloadedmetadata = ok; v.onerror = () => ko(new Error('cannot load the recording')); });
        if (Number.isFinite(v.duration) && v.duration > 0) {
          await v.play();
          await new Promise((r) => setTimeout(r, 700));
          return { name: file.name, duration: v.duration, played: v.currentTime, width: v.videoWidth };
        }
        v.remove();
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    return null;
  }, { room: interview, candidate: ids.candidate });
  assert.ok(recording, 'a finished video recording of the candidate');
  assert.ok(recording.width > 0 && recording.played > 0, `it plays: ${JSON.stringify(recording)}`);
  assert.ok(Math.abs(recording.duration - sentSeconds) <= 0.1 * sentSeconds,
    `duration ${recording.duration.toFixed(2)} s against ${sentSeconds.toFixed(2)} s sent`);

  await candidate.reload();
  await candidate.getByTestId('outcome').waitFor();
  assert.equal(await candidate.getByTestId('outcome').getAttribute('data-kind'), 'ended');
  assert.doesNotMatch(await candidate.locator('main').innerText(), /introuvable/);
  await evaluatorPage.reload();
  await evaluatorPage.waitForFunction(() => document.querySelector('[data-testid="room-state"]')?.dataset.state === 'ended', null, { timeout: 10_000 });
  assert.match(await evaluatorPage.getByTestId('room-state').innerText(), /terminé/);
  assert.notEqual(await evaluatorPage.locator('#timer-clock').innerText(), '--:--', 'the duration held is shown');
  await admin.goto(`${env.server.base}/static/centre.html`);
  const oral = admin.getByTestId(`oral-${ids.candidate}`);
  await oral.waitFor();
  assert.equal(await oral.getAttribute('data-state'), 'ended');
  assert.match(await oral.innerText(), /^terminé/);
});
