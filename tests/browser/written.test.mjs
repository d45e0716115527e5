// The written test through the pages: the candidate's steps before it (personal data,
// identity), then the test itself on a bank of 10-second items; an answer held up on
// the network past its deadline is refused and shown as late, and the test goes on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { setUp, openAs, identityByApi } from './harness.mjs';
import { answer } from './items.mjs';

const shortBank = fileURLToPath(new URL('../data/bank-short', import.meta.url));
const env = setUp({ serverArgs: ['--bank', shortBank, '--item-pause-ms', '3000'] });

test('steps, then a late answer refused and the test going on', async () => {
  const { page, errors } = await openAs(env.context, env.server.links.candidate);

  // Personal data, through the form.
  await page.getByTestId('go-profile').click();
  await page.getByTestId('birth_name').fill('MARTIN');
  await page.getByTestId('first_names').fill('Camille Anne');
  await page.getByTestId('birth_date').fill('1994-05-17');
  await page.getByTestId('sex-F').check();
  await page.getByTestId('birth_commune').fill('Lyon');
  await page.getByTestId('birth_country').fill('France');
  await page.getByTestId('save-profile').click();
  await page.getByTestId('back-home').click();
  await page.waitForURL('**/app/**');
  assert.equal(await page.getByTestId('step-profile').getAttribute('data-done'), 'true');

  // Identity (through the API: the capture page has its own test), then start.
  await identityByApi(page);
  await page.reload();
  await page.getByTestId('start-written').click();

  // The first question; its answer is held on the network until after the deadline.
  const item = page.getByTestId('item');
  await item.waitFor();
  assert.match(await page.getByTestId('question-heading').innerText(), /1\s*\/\s*50/);
  const firstId = await item.getAttribute('data-item-id');
  let held = 0;
  await page.route('**/api/v1/written/*/answers', async (route) => {
    held += 1;
    await new Promise((r) => setTimeout(r, 11_500));
    await route.continue();
  });
  const type = await item.getAttribute('data-type');
  if ((await answer(page, type)) !== 'validated') await page.getByTestId('validate').click();
  await page.getByTestId('late-message').waitFor({ timeout: 30_000 });
  assert.equal(held, 1);
  await page.unroute('**/api/v1/written/*/answers');

  // The test goes on with the next question, which is answered in time.
  await page.waitForFunction(
    (prev) => {
      const el = document.querySelector('[data-testid="item"]');
      return el && el.dataset.itemId && el.dataset.itemId !== prev;
    },
    firstId,
    { timeout: 20_000 },
  );
  assert.match(await page.getByTestId('question-heading').innerText(), /2\s*\/\s*50/);
  const second = await item.getAttribute('data-type');
  if ((await answer(page, second)) !== 'validated') await page.getByTestId('validate').click();
  await page.getByTestId('interstitial').waitFor();

  // The session goes on (the in-process tests check what is stored).
  const view = await page.evaluate(async () => {
    const j = await (await fetch('/api/v1/me/journey')).json();
    return j.written;
  });
  assert.equal(view.status, 'in_progress');
  assert.deepEqual(errors, []);
  await page.close();
});
