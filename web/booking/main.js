// The candidate's booking of the oral interview ("PRISE DE RENDEZ-VOUS"): the weekly
// calendar of free slots, the question before booking, then the booked slot to change
// or confirm. The booking is held until "Confirmer et quitter" mails the invitation.
import { api, NetworkError } from '../api.js';
import { focusStatic, h } from '../dom.js';
import { t, tf, translate, withLang } from '../i18n.js';
import { fmtDate, fmtTime } from '../time.js';
import { createCalendar } from './calendar.js';
import { askSlot } from './dialog.js';
import { bookingRange, showBooked, showDone, showMessage } from './views.js';

translate();
const stage = document.getElementById('booking-stage');
const alertBox = document.getElementById('booking-alert');
const intro = document.getElementById('calendar-intro');
const leaveLine = document.getElementById('leave-line');
const contact = document.getElementById('no-slot-contact');
contact.href = t('booking.contact.href');

/** The candidate's live booking (null when none or cancelled). */
let booking = null;

function say(text, kind = 'error') {
  alertBox.className = `booking-alert ${kind}`;
  alertBox.textContent = text;
}

/** Calls the API; a missing answer becomes null (said as a network problem). */
async function call(method, path, body) {
  try {
    return await api(method, path, body);
  } catch (e) {
    if (e instanceof NetworkError) return null;
    throw e;
  }
}

// Before the written test is finished there is nothing to book: say so instead of the calendar.
function refused(res) {
  if (res.code !== 'written_not_finished') return false;
  intro.hidden = true;
  showMessage(stage, t('booking.not_yet'), t('booking.written_not_finished'));
  return true;
}

/** The calendar; `changing` when the booked slot is being moved (PUT). */
function showCalendar(changing = false) {
  intro.hidden = false;
  leaveLine.hidden = changing;
  const calendar = createCalendar({ onPick: pick, onRefused: refused });
  const heading = h('h2', { tabindex: '-1' }, t(changing ? 'booking.cal.title_change' : 'booking.cal.title'));
  const keep = changing
    ? h('p', { dataset: { testid: 'changing' } }, tf('booking.cal.changing', { range: bookingRange(booking) }), ' ',
      h('button', { type: 'button', class: 'secondary', dataset: { testid: 'keep-booking' }, on: { click: () => showBookedView() } }, t('booking.cal.keep')))
    : null;
  stage.replaceChildren(h('section', { class: 'booking-view', dataset: { testid: 'booking-calendar' } }, heading, keep, calendar.el));
  focusStatic(heading);
  calendar.start();

  async function pick(slot, button) {
    const start = new Date(slot.start);
    const end = new Date(slot.end);
    const yes = await askSlot(tf('booking.dialog.question', { date: fmtDate(start), start: fmtTime(start), end: fmtTime(end) }));
    if (!yes) {
      button.focus();
      return;
    }
    calendar.busy(true);
    say(t('booking.sending'), 'muted');
    const res = changing
      ? await call('PUT', `/api/v1/bookings/${encodeURIComponent(booking.id)}`, { slot_id: slot.id })
      : await call('POST', '/api/v1/bookings', { slot_id: slot.id });
    calendar.busy(false);
    if (res?.ok) {
      say('', '');
      booking = res.data;
      showBookedView({ changed: changing });
      return;
    }
    if (res?.code === 'slot_taken') {
      say(t('booking.slot_taken'));
      await calendar.reload();
      focusStatic(alertBox);
      return;
    }
    if (res?.code === 'already_booked') {
      // Booked meanwhile (another tab): show that booking.
      if (await loadMine()) {
        say(t('booking.already_booked'));
        showBookedView();
        return;
      }
    }
    const known = { written_not_finished: 'booking.written_not_finished', rebooking_closed: 'booking.rebooking_closed' };
    say(!res ? t('journey.network') : known[res.code] ? t(known[res.code]) : `${t('booking.failed')} ${res.message}`);
    button.focus();
  }
}

function showBookedView({ changed = false } = {}) {
  intro.hidden = true;
  showBooked(stage, booking, {
    changed,
    onModify: () => {
      say('', '');
      showCalendar(true);
    },
    onConfirm: confirm,
  });
}

async function confirm({ confirm: button, status }) {
  button.disabled = true;
  status.className = 'booking-status';
  status.textContent = t('booking.sending');
  const res = await call('POST', `/api/v1/bookings/${encodeURIComponent(booking.id)}/confirm`);
  if (res?.ok) {
    if (res.data && res.data.start) booking = res.data;
    showDone(stage, booking);
    return;
  }
  button.disabled = false;
  status.className = 'booking-status error';
  status.textContent = !res ? t('journey.network') : `${t('booking.confirm_failed')} ${res.message}`;
  button.focus();
}

/** Reads the candidate's booking; false when it could not be read. */
async function loadMine() {
  const res = await call('GET', '/api/v1/bookings/mine');
  if (!res?.ok) {
    if (!res) showMessage(stage, t('booking.error.title'), t('journey.network'));
    else if (res.status === 401) showMessage(stage, t('booking.error.title'), t('home.signed_out'));
    else showMessage(stage, t('booking.error.title'), `${t('journey.error')} ${res.message}`);
    intro.hidden = true;
    return false;
  }
  booking = res.data && res.data.status !== 'cancelled' ? res.data : null;
  return true;
}

document.getElementById('leave-without-booking').addEventListener('click', async (event) => {
  const button = event.currentTarget;
  button.disabled = true;
  const res = await call('POST', '/api/v1/me/booking-later');
  if (res?.ok) {
    location.assign(withLang('/app/'));
    return;
  }
  button.disabled = false;
  say(!res ? t('journey.network') : `${t('booking.failed')} ${res.message}`);
  button.focus();
});

if (await loadMine()) {
  if (booking) showBookedView();
  else showCalendar();
}
