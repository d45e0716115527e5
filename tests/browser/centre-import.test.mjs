// The centre's CSV import through the page: how many candidates were imported is a
// success status of its own (green, role=status), the refused lines are in the error
// box below it; an import with no refused line leaves the error box empty.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setUp, openAs } from './harness.mjs';

const env = setUp();

const HEADER = 'email,first_names,last_name,cefr_target,time_multiplier';

test('CSV import: the imported count as a success status, the refused lines as errors', async () => {
  const { page, errors } = await openAs(env.context, env.server.links.centre_admin);
  await page.goto(`${env.server.base}/static/centre.html`);
  const count = page.getByTestId('import-count');
  const result = page.getByTestId('import-result');
  await page.getByTestId('import-form').waitFor();

  // The colours of a success and of an error in this page's style.
  const colours = await page.evaluate(() => {
    const probe = (cls) => {
      const el = document.createElement('p');
      el.className = cls;
      document.body.append(el);
      const colour = getComputedStyle(el).color;
      el.remove();
      return colour;
    };
    return { ok: probe('ok'), error: probe('error') };
  });
  assert.notEqual(colours.ok, colours.error);
  const look = (locator) => locator.evaluate((el) => ({
    role: el.getAttribute('role'),
    classes: [...el.classList],
    colour: getComputedStyle(el).color,
    inResult: Boolean(el.closest('[data-testid="import-result"]')),
  }));

  // One good line, one refused (line 3).
  await page.getByTestId('csv-input').fill(`${HEADER}\nana.silva@example.org,Ana,Silva,B1,1\nnot-an-email,Bad,Row,B1,1`);
  await page.getByTestId('csv-import').click();
  await page.getByTestId('import-error-3').waitFor();
  assert.equal(await count.innerText(), '1 candidat importé.');
  assert.equal(await count.isVisible(), true);
  const success = await look(count);
  assert.equal(success.role, 'status');
  assert.equal(success.inResult, false, 'the count is not inside the error box');
  assert.ok(success.classes.includes('ok') && !success.classes.includes('error'), `success style: ${success.classes}`);
  assert.equal(success.colour, colours.ok, 'shown in the success colour');
  const failure = await look(result);
  assert.ok(failure.classes.includes('error'), 'the refused lines are in the error box');
  assert.equal(failure.colour, colours.error);
  assert.match(await result.innerText(), /1 ligne refusée/);
  assert.doesNotMatch(await result.innerText(), /importé/, 'the error box holds only the errors');
  assert.match(await page.getByTestId('import-error-3').innerText(), /^ligne 3 : /);
  // Keyboard and screen reader users land on the errors.
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'import-result');

  // Every line good: the count only, no error box.
  await page.getByTestId('csv-input').fill(`${HEADER}\nbea.costa@example.org,Bea,Costa,B2,1\ncid.rocha@example.org,Cid,Rocha,A2,1.25`);
  await page.getByTestId('csv-import').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="import-count"]').textContent === '2 candidats importés.');
  assert.equal((await look(count)).colour, colours.ok);
  assert.equal(await result.innerText(), '');
  assert.equal(await result.isVisible(), false, 'no error box');
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'import-count');

  // Nothing imported: the count is not a success.
  await page.getByTestId('csv-input').fill(`${HEADER}\nstill-not-an-email,Bad,Row,B1,1`);
  await page.getByTestId('csv-import').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="import-count"]').textContent === '0 candidats importés.');
  assert.equal((await look(count)).classes.includes('ok'), false);
  assert.match(await result.innerText(), /1 ligne refusée/);
  assert.deepEqual(errors, []);
  await page.close();
});
