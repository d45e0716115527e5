// The equipment check with Chromium's fake camera and microphone, and a practice
// exercise with its feedback and tip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setUp, openAs } from './harness.mjs';
import { answer } from './items.mjs';

const env = setUp();

test('the system check: sound, microphone level, camera preview, bandwidth, then saved (not before)', async () => {
  const { page } = await openAs(env.context, env.server.links.candidate);
  await page.getByTestId('go-check').click();
  // Nothing tested yet: the result cannot be saved, and the hint says why.
  const save = page.getByTestId('save-check');
  const hint = page.getByTestId('save-hint');
  const left = async () => {
    assert.equal(await save.isDisabled(), true, 'saving waits for every check');
    assert.equal(await save.getAttribute('aria-describedby'), 'save-hint');
    assert.equal(await hint.isVisible(), true, 'the hint is visible');
    return (await hint.innerText()).match(/Reste à tester : (.*)\./)[1].split(', ');
  };
  await page.waitForFunction(() => document.querySelector('[data-testid="save-hint"]').textContent !== '');
  assert.deepEqual(await left(), ['Son', 'Micro', 'Caméra', 'Connexion Internet']);
  await page.getByTestId('play-sound').click();
  await page.getByTestId('heard-yes').click();
  assert.deepEqual(await left(), ['Micro', 'Caméra', 'Connexion Internet']);
  await page.getByTestId('mic-start').click();
  // The fake microphone plays a tone: the meter moves.
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="mic-level"]').value) > 0.02, null, { timeout: 10_000 });
  assert.deepEqual(await left(), ['Caméra', 'Connexion Internet']);
  await page.getByTestId('cam-start').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="cam-preview"]').videoWidth > 0, null, { timeout: 10_000 });
  assert.deepEqual(await left(), ['Connexion Internet']);
  await page.getByTestId('net-start').click();
  await page.waitForFunction(() => /\d/.test(document.querySelector('[data-testid="net-status"]').innerText), null, { timeout: 15_000 });
  // Once the rate is measured every check has run: the button is enabled, the hint gone.
  await page.waitForFunction(() => !document.querySelector('[data-testid="save-check"]').disabled, null, { timeout: 15_000 });
  assert.equal(await hint.isVisible(), false, 'no hint once everything was tested');
  assert.match(await page.getByTestId('net-status').innerText(), /kbit\/s —/);
  await save.click();
  await page.getByTestId('back-home').waitFor();
  const journey = await page.evaluate(async () => (await fetch('/api/v1/me/journey')).json());
  assert.equal(journey.system_check_done, true);
  await page.close();
});

test('a practice exercise gives its score, the expected answer and a tip', async () => {
  const page = await env.context.newPage();
  await page.goto(`${env.server.base}/app/`);
  await page.getByTestId('practice-grammar').click();
  const item = page.getByTestId('item');
  await item.waitFor();
  if ((await answer(page, await item.getAttribute('data-type'))) !== 'validated') await page.getByTestId('validate').click();
  await page.getByTestId('feedback').waitFor();
  assert.match(await page.getByTestId('score').innerText(), /\d/);
  assert.ok((await page.getByTestId('tip').innerText()).length > 10);
  assert.ok((await page.getByTestId('expected').innerText()).length > 0);
  const first = await item.getAttribute('data-item-id');
  await page.getByTestId('next').click();
  await page.waitForFunction((prev) => document.querySelector('[data-testid="item"]')?.dataset.itemId !== prev, first);
  await page.close();
});
