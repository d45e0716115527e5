// From a finished written test to a verified certificate, through the pages: the
// candidate books a slot in the weekly calendar, changes it, confirms; the confirmation
// mail with its .ics is in the local mailbox; the evaluator scores the oral; the
// candidate's certificate page verifies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setUp, openAs, writtenTestByApi, holdInterview } from './harness.mjs';

// The booked slot is days ahead: its room opens now, and an interview of a few
// seconds may be scored (the lifecycle's own rules are tested in exam-api and in
// interview.test.mjs).
const env = setUp({ serverArgs: ['--item-pause-ms', '0', '--room-opens-before-min', '100000', '--oral-min-minutes', '0'] });

test('book, change, confirm, get the .ics, be scored, verify the certificate', async () => {
  const { page: candidate, errors } = await openAs(env.context, env.server.links.candidate);
  await writtenTestByApi(candidate);

  // The reviewer validates the written test (the review pages come with proctoring).
  const staff = await env.browser.newContext();
  const { page: reviewer } = await openAs(staff, env.server.links.reviewer);
  await reviewer.evaluate(async () => {
    const queue = await (await fetch('/api/v1/reviews')).json();
    const res = await fetch(`/api/v1/reviews/${queue[0].session_id}/decision`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ decision: 'validated' }) });
    if (res.status !== 204) throw new Error(await res.text());
  });

  // The weekly calendar: find a week with free slots, pick one, say yes.
  await candidate.goto(`${env.server.base}/app/`);
  await candidate.getByTestId('go-booking').click();
  await candidate.getByTestId('calendar').waitFor();
  const slots = candidate.locator('button[data-testid^="slot-2"]');
  for (let week = 0; week < 3 && (await slots.count()) === 0; week++) {
    await candidate.getByTestId('booking-next').click();
    await candidate.waitForTimeout(300);
  }
  assert.ok((await slots.count()) > 1, 'free slots in the calendar');
  await slots.first().click();
  await candidate.getByTestId('slot-dialog').waitFor();
  await candidate.getByTestId('slot-yes').click();
  const first = await candidate.getByTestId('booked-slot').innerText();

  // "Modifier le RDV": another slot.
  await candidate.getByTestId('modify-booking').click();
  await candidate.getByTestId('calendar').waitFor();
  for (let week = 0; week < 3 && (await slots.count()) < 2; week++) {
    await candidate.getByTestId('booking-next').click();
    await candidate.waitForTimeout(300);
  }
  await slots.nth(1).click();
  await candidate.getByTestId('slot-yes').click();
  await candidate.getByTestId('booked-slot').waitFor();
  const second = await candidate.getByTestId('booked-slot').innerText();
  assert.notEqual(second, first, 'the booking moved');

  // "Confirmer et quitter", then the mail with its .ics in the local mailbox.
  await candidate.getByTestId('confirm-booking').click();
  await candidate.getByTestId('booking-done').waitFor();
  await candidate.goto(`${env.server.base}/static/mailbox.html`);
  const mail = candidate.getByTestId('mail-booking_confirmed');
  await mail.waitFor();
  const href = await mail.locator('a[href*="/attachments/"]').first().getAttribute('href');
  const ics = await candidate.evaluate(async (url) => (await fetch(url)).text(), href);
  assert.match(ics, /BEGIN:VCALENDAR/);
  assert.match(ics, /METHOD:REQUEST/);
  assert.match(ics, /UID:[^\r\n]+@langcert/);
  assert.match(ics, /ATTENDEE;/);

  // The centre sets this candidate's target to A1 (a centre decision, through the API).
  const { page: admin } = await openAs(staff, env.server.links.centre_admin);
  await admin.evaluate(async () => {
    const list = await (await fetch('/api/v1/candidates')).json();
    const res = await fetch(`/api/v1/candidates/${list[0].id}/target`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ cefr_target: 'A1' }) });
    if (res.status !== 204) throw new Error(await res.text());
  });

  // The interview takes place (the room's steps over the real signaling); then the
  // evaluator scores the oral in the console.
  const { page: evaluator } = await openAs(staff, env.server.links.evaluator);
  await evaluator.goto(`${env.server.base}/static/evaluator.html`);
  const booking = await candidate.evaluate(async () => (await (await fetch('/api/v1/bookings/mine')).json()).id);
  await holdInterview(candidate, evaluator, booking);
  await evaluator.reload();
  const scoreButton = evaluator.getByTestId(`score-${booking}`);
  await scoreButton.waitFor();
  await scoreButton.click();
  for (const c of ['vocabulary_range', 'grammar', 'fluency', 'pronunciation', 'interaction']) {
    await evaluator.getByTestId(`level-${c}`).selectOption('A1');
    assert.ok((await evaluator.getByTestId(`descriptor-${c}`).innerText()).length > 10, 'the descriptor of the level is shown');
  }
  await evaluator.getByTestId('save-score').click();
  await evaluator.waitForFunction(() => /A1/.test(document.querySelector('[data-testid="oral-level"]')?.innerText ?? ''));

  // The candidate's results: every part done, the A1 target reached: the certificate
  // page verifies it (signature, log inclusion, checkpoint, not revoked).
  await candidate.goto(`${env.server.base}/static/results.html`);
  await candidate.getByTestId('result-overall').waitFor();
  assert.equal(await candidate.getByTestId('result-overall').innerText(), 'A1');
  await candidate.getByTestId('certificate-link').click();
  await candidate.getByTestId('verify-status').waitFor();
  assert.equal(await candidate.getByTestId('verify-status').getAttribute('data-valid'), 'true');
  assert.match(await candidate.getByTestId('holder').innerText(), /Camille Martin/);
  assert.match(await candidate.getByTestId('check-log').innerText(), /✔/);
  assert.equal(await candidate.getByTestId('qr').locator('svg').count(), 1);
  assert.deepEqual(errors, []);
});
