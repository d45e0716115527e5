// The weekly calendar: "Calendrier - Aujourd'hui ← → Du 14/03/2022 au 20/03/2022",
// then a grid with the days as columns ("14 Lundi") and the hours as rows, the free
// slots as buttons ("10:00 - 10:30"). Weeks start on Monday; past weeks are not offered.
// The grid is one Tab stop (ARIA grid, roving tabindex): the arrow keys move between
// the slots in day and time order (see ./grid-keys.js).
import { NetworkError } from '../api.js';
import { focusStatic, h } from '../dom.js';
import { t, tf } from '../i18n.js';
import { addDays, fmtDate, fmtTime, isoDate, mondayOf, weekdayName } from '../time.js';
import { gridKeys } from './grid-keys.js';
import { fetchWeek, layoutWeek } from './slots.js';

/** Calendars built so far in the page (for unique ids). */
let calendars = 0;

/**
 * A calendar element. `onPick(slot, button)` is called when a slot is chosen;
 * `explain(res)` may turn a refusal of the slots request into a sentence (else the
 * server's message is shown); `onRefused(res)` returning true takes such a refusal over. `candidateId` asks the slots a centre admin may book
 * for that candidate. Returns `{ el, reload(), busy(on), focusLabel() }`.
 */
export function createCalendar({ onPick, explain = () => null, onRefused = () => false, candidateId = null }) {
  const thisWeek = () => mondayOf(new Date());
  let monday = thisWeek();
  let asked = 0;
  let locked = false;

  const today = h('button', { type: 'button', class: 'secondary', dataset: { testid: 'booking-today' } }, t('booking.cal.today'));
  const prev = h('button', { type: 'button', class: 'secondary arrow', 'aria-label': t('booking.cal.prev'), title: t('booking.cal.prev'), dataset: { testid: 'booking-prev' } }, '←');
  const next = h('button', { type: 'button', class: 'secondary arrow', 'aria-label': t('booking.cal.next'), title: t('booking.cal.next'), dataset: { testid: 'booking-next' } }, '→');
  const label = h('p', { class: 'week-label', 'aria-live': 'polite', dataset: { testid: 'week-label' } });
  const status = h('p', { class: 'cal-status', role: 'status', dataset: { testid: 'calendar-status' } });
  const grid = h('div', { class: 'cal-scroll' });
  const keysHint = h('p', { id: `cal-keys-${++calendars}`, class: 'hint cal-keys', hidden: true, dataset: { testid: 'calendar-keys' } }, t('booking.cal.keys'));
  const el = h('div', { class: 'calendar', dataset: { testid: 'calendar' } },
    h('div', { class: 'cal-toolbar' },
      h('span', { class: 'cal-name' }, t('booking.cal.name')), h('span', { 'aria-hidden': 'true' }, ' - '),
      today, prev, next, label),
    status,
    keysHint,
    grid);

  function go(to) {
    const wasFocused = document.activeElement;
    monday = to < thisWeek() ? thisWeek() : to;
    const first = monday.getTime() <= thisWeek().getTime();
    prev.disabled = first;
    // A disabled button loses the focus: keep it on the row of arrows.
    if (first && wasFocused === prev) next.focus();
    return load();
  }

  async function load() {
    const ticket = ++asked;
    const sunday = addDays(monday, 6);
    label.textContent = tf('booking.cal.week', { from: fmtDate(monday), to: fmtDate(sunday) });
    status.className = 'cal-status';
    status.textContent = t('booking.cal.loading');
    grid.setAttribute('aria-busy', 'true');
    let res;
    try {
      res = await fetchWeek(monday, candidateId);
    } catch (e) {
      if (!(e instanceof NetworkError)) throw e;
      res = null;
    }
    if (ticket !== asked) return;
    grid.removeAttribute('aria-busy');
    if (res && !res.ok && onRefused(res)) return;
    if (!res || !res.ok) {
      status.className = 'cal-status error';
      status.textContent = !res ? t('journey.network') : explain(res) ?? `${t('journey.error')} ${res.message}`;
      grid.replaceChildren();
      keysHint.hidden = true;
      return;
    }
    status.textContent = '';
    const slots = Array.isArray(res.data?.slots) ? res.data.slots : [];
    // The Tab stop stays on the same slot when the week is read again.
    const stop = grid.querySelector('button.slot[tabindex="0"]')?.dataset.slotId;
    grid.replaceChildren(slots.length ? table(layoutWeek(monday, slots), stop) : empty());
    keysHint.hidden = !slots.length;
  }

  function empty() {
    return h('p', { class: 'no-slots', dataset: { testid: 'no-slots' } }, t('booking.cal.empty'));
  }

  function table({ days, hours, cell }, stopId) {
    const todayKey = isoDate(new Date());
    const head = h('tr', { role: 'row' }, h('th', { scope: 'col', role: 'columnheader' }, t('booking.cal.hour')),
      days.map((d) => h('th', {
        scope: 'col',
        role: 'columnheader',
        class: isoDate(d) === todayKey ? 'today' : isoDate(d) < todayKey ? 'past' : null,
        'aria-current': isoDate(d) === todayKey ? 'date' : null,
      }, tf('booking.cal.day', { n: d.getDate(), day: weekdayName(d) }))));
    // For the keyboard: each day's slots in time order.
    const columns = days.map(() => []);
    const rows = hours.map((hour) => h('tr', { role: 'row' },
      h('th', { scope: 'row', role: 'rowheader' }, tf('booking.cal.hour_row', { h: hour })),
      days.map((d, i) => h('td', { role: 'gridcell' }, cell(i, hour).map((slot) => {
        const button = slotButton(d, slot);
        const start = new Date(slot.start);
        columns[i].push({ button, minutes: start.getHours() * 60 + start.getMinutes() });
        return button;
      })))));
    const el = h('table', { class: 'cal-table', role: 'grid', 'aria-describedby': keysHint.id },
      h('caption', { class: 'sr-only' }, label.textContent),
      h('thead', {}, head), h('tbody', {}, rows));
    gridKeys(el, columns, columns.flat().find((c) => c.button.dataset.slotId === stopId)?.button);
    return el;
  }

  function slotButton(day, slot) {
    const start = new Date(slot.start);
    const end = new Date(slot.end);
    const button = h('button', {
      type: 'button',
      class: 'slot',
      'aria-label': tf('booking.cal.slot_label', { day: weekdayName(day), date: fmtDate(start), start: fmtTime(start), end: fmtTime(end) }),
      dataset: { testid: `slot-${slot.start}`, slotId: slot.id },
    }, `${fmtTime(start)} - ${fmtTime(end)}`);
    if (locked) button.setAttribute('aria-disabled', 'true');
    button.addEventListener('click', () => {
      if (!locked) onPick(slot, button);
    });
    return button;
  }

  today.addEventListener('click', () => go(thisWeek()));
  prev.addEventListener('click', () => go(addDays(monday, -7)));
  next.addEventListener('click', () => go(addDays(monday, 7)));

  return {
    el,
    /** Reads the shown week again (after a slot was taken by someone else). */
    reload: () => go(monday),
    /** Locks the slot buttons while a booking is being sent (they keep the focus). */
    busy(on) {
      locked = on;
      for (const b of grid.querySelectorAll('button.slot')) {
        if (on) b.setAttribute('aria-disabled', 'true');
        else b.removeAttribute('aria-disabled');
      }
    },
    focusLabel: () => focusStatic(label),
    /** Starts on the current week. */
    start: () => go(thisWeek()),
  };
}
