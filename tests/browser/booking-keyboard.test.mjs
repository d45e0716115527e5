// The booking calendar with the keyboard alone: one Tab into the grid, then the arrow
// keys, Home and End move between the slots in day and time order, and Enter books.
// The evaluator's availability is set so that next week has an uneven pattern: days
// with one slot, a day with none, a day with two windows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setUp, openAs, writtenTestByApi } from './harness.mjs';

const ZONE = 'Europe/Paris';
const env = setUp({ serverArgs: ['--item-pause-ms', '0'], launchOptions: { contextOptions: { timezoneId: ZONE } } });

/** "Monday 09:30": the weekday and start time in Paris of a slot's start instant. */
function dayTime(iso) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-GB', {
    timeZone: ZONE, weekday: 'long', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  }).formatToParts(new Date(iso)).map((p) => [p.type, p.value]));
  return `${parts.weekday} ${parts.hour}:${parts.minute}`;
}

test('the calendar grid: arrow keys in day and time order, Enter books', async () => {
  // Mon 09:00 09:30 10:00 · Tue 14:00 · Wed none · Thu 08:00 08:30 10:00 · Fri 09:30.
  const staff = await env.browser.newContext({ timezoneId: ZONE });
  const { page: evaluator } = await openAs(staff, env.server.links.evaluator);
  await evaluator.evaluate(async (availability) => {
    const res = await fetch('/api/v1/availability', { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(availability) });
    if (!res.ok) throw new Error(`availability: ${res.status} ${await res.text()}`);
  }, {
    time_zone: ZONE,
    slot_minutes: 30,
    weekly: [
      { weekday: 1, start: '09:00', end: '10:30' },
      { weekday: 2, start: '14:00', end: '14:30' },
      { weekday: 4, start: '08:00', end: '09:00' },
      { weekday: 4, start: '10:00', end: '10:30' },
      { weekday: 5, start: '09:30', end: '10:00' },
    ],
  });
  await staff.close();

  const { page, errors } = await openAs(env.context, env.server.links.candidate);
  await writtenTestByApi(page);
  await page.goto(`${env.server.base}/static/booking.html`);
  await page.getByTestId('calendar').waitFor();
  const label = page.getByTestId('week-label');
  await page.waitForFunction(() => document.querySelector('[data-testid="calendar-status"]')?.textContent === '');

  // Next week, from the keyboard: the "→" button, Enter.
  const thisWeek = await label.innerText();
  await page.getByTestId('booking-next').focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction((before) => document.querySelector('[data-testid="week-label"]').innerText !== before, thisWeek);
  const grid = page.getByRole('grid');
  await grid.waitFor();
  assert.ok((await grid.getByRole('row').count()) > 1, 'the grid has rows');
  assert.ok((await grid.getByRole('gridcell').count()) >= 7, 'the grid has cells');
  assert.equal(await page.getByTestId('calendar-keys').isVisible(), true, 'the keys are explained');

  // What has the focus, and the grid has a single Tab stop: that slot.
  const focused = async () => {
    const state = await page.evaluate(() => {
      const slots = [...document.querySelectorAll('[role="grid"] button.slot')];
      const active = document.activeElement;
      return {
        testid: slots.includes(active) ? active.dataset.testid : null,
        stops: slots.filter((b) => b.getAttribute('tabindex') === '0').map((b) => b.dataset.testid),
        others: slots.filter((b) => b !== active && b.getAttribute('tabindex') !== '-1').length,
      };
    });
    assert.ok(state.testid, 'a slot of the grid has the focus');
    assert.deepEqual(state.stops, [state.testid], 'the focused slot is the only Tab stop');
    assert.equal(state.others, 0, 'every other slot is out of the Tab order');
    return dayTime(state.testid.slice('slot-'.length));
  };

  const visited = [];
  await page.keyboard.press('Tab');
  visited.push(await focused());
  const keys = ['ArrowDown', 'ArrowDown', 'ArrowDown', 'Home', 'End', 'ArrowRight', 'ArrowRight', 'ArrowUp', 'ArrowUp',
    'ArrowRight', 'ArrowRight', 'ArrowLeft', 'ArrowLeft', 'ArrowLeft', 'ArrowUp'];
  for (const key of keys) {
    await page.keyboard.press(key);
    visited.push(await focused());
  }
  assert.deepEqual(visited, [
    'Monday 09:00', // Tab: the first slot of the week
    'Monday 09:30', 'Monday 10:00', // Down, Down: the next times of the day
    'Monday 10:00', // Down at the last slot of the day: stays
    'Monday 09:00', 'Monday 10:00', // Home, End
    'Tuesday 14:00', // Right: the next day, its only slot
    'Thursday 10:00', // Right: Wednesday has none; Thursday's nearest to 14:00
    'Thursday 08:30', 'Thursday 08:00', // Up, Up, across the hour rows
    'Friday 09:30', // Right: the next day's nearest time
    'Friday 09:30', // Right on the last day: stays
    'Thursday 10:00', // Left: nearest to 09:30 (10:00 is 30 min off, 08:30 an hour)
    'Tuesday 14:00', 'Monday 10:00', // Left, Left
    'Monday 09:30', // Up
  ]);

  // Enter chooses the slot; the dialog's "Oui" has the focus: Enter again books it.
  const chosen = await page.evaluate(() => document.activeElement.dataset.testid.slice('slot-'.length));
  await page.keyboard.press('Enter');
  const dialog = page.getByTestId('slot-dialog');
  await dialog.waitFor();
  assert.match(await dialog.innerText(), /09:30/);
  assert.equal(await page.evaluate(() => document.activeElement.dataset.testid), 'slot-yes');
  await page.keyboard.press('Enter');
  await page.getByTestId('booking-confirmation').waitFor();
  const mine = await page.evaluate(async () => (await fetch('/api/v1/bookings/mine')).json());
  assert.equal(Date.parse(mine.start), Date.parse(chosen), 'the focused slot is the one booked');
  const date = new Intl.DateTimeFormat('fr-FR', { timeZone: ZONE, day: '2-digit', month: '2-digit', year: 'numeric' }).format(new Date(chosen));
  assert.match(await page.getByTestId('booked-slot').innerText(), new RegExp(`${date} 09:30`));
  assert.deepEqual(errors, []);
});
