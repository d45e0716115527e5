// The demo mini-test taken end to end through the page: seven questions, one of each
// type, answered the way a candidate does (clicks, selects, typing; no drag and drop),
// one of them with the keyboard alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setUp, openAs } from './harness.mjs';
import { answer } from './items.mjs';

const env = setUp();

test('the demo mini-test: seven questions, one of each type, answered through the page', async () => {
  const { page, errors } = await openAs(env.context, env.server.links.candidate);
  await page.goto(`${env.server.base}/static/test.html?mode=demo`);
  const seen = [];
  for (let q = 1; q <= 7; q++) {
    const item = page.getByTestId('item');
    await item.waitFor();
    const type = await item.getAttribute('data-type');
    seen.push(type);
    assert.match(await page.getByTestId('question-heading').innerText(), new RegExp(`${q}\\s*/\\s*7`));
    // The timer bar starts green and shows the time as text.
    assert.equal(await page.getByTestId('timer').getAttribute('data-phase'), 'green');
    assert.match(await page.getByTestId('timer-text').innerText(), /\d+:\d\d/);
    const id = await item.getAttribute('data-item-id');
    if ((await answer(page, type)) !== 'validated') await page.getByTestId('validate').click();
    if (q < 7) {
      // The 3-second interstitial, then the next question.
      await page.getByTestId('interstitial').waitFor();
      try {
        await page.waitForFunction(
          (prev) => {
            const el = document.querySelector('[data-testid="item"]');
            return el && el.dataset.itemId !== prev;
          },
          id,
          { timeout: 10_000 },
        );
      } catch (e) {
        await page.screenshot({ path: '/tmp/demo-fail.png', fullPage: true });
        throw e;
      }
    }
  }
  await page.getByTestId('finished').waitFor();
  assert.deepEqual([...seen].sort(), ['choice', 'dropdown_gaps', 'listening', 'order_sentences', 'order_words', 'text_gaps', 'word_bank']);
  assert.deepEqual(errors, []);
  await page.close();
});
