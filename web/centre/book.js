// "Réserver l'oral" for a candidate: the calendar of the slots that candidate may book
// (GET /api/v1/slots?candidate_id=…), the same question as the candidate's, then
// POST /api/v1/bookings with the candidate: a centre's booking is confirmed at once.
import { api } from '../api.js';
import { createCalendar } from '../booking/calendar.js';
import { askSlot } from '../booking/dialog.js';
import { focusStatic, h } from '../dom.js';
import { t, tf } from '../i18n.js';
import { fmtDate, fmtRange, fmtTime } from '../time.js';

const EXPLAIN = {
  written_not_finished: 'centre.book.written_not_finished',
  slot_taken: 'centre.book.slot_taken',
  already_booked: 'centre.book.already_booked',
};

/** Wires the panel; `onBooked()` refreshes the table. Returns `{ open(candidate) }`. */
export function setupBooking(panel, onBooked) {
  let openedFor = null;

  // The table may have been drawn again meanwhile: find the candidate's button anew
  // (gone once they are booked: then the table's heading).
  function close() {
    panel.hidden = true;
    panel.replaceChildren();
    const button = document.querySelector(`[data-testid="book-${CSS.escape(openedFor ?? '')}"]`);
    if (button) button.focus();
    else focusStatic(document.getElementById('candidates-title'));
    openedFor = null;
  }

  function open(candidate) {
    openedFor = candidate.id;
    const who = `${candidate.first_names ?? ''} ${candidate.last_name ?? ''}`.trim() || candidate.email;
    const heading = h('h3', { id: 'book-title', tabindex: '-1' }, tf('centre.book.title', { name: who }));
    const result = h('p', { class: 'booking-alert', role: 'alert', dataset: { testid: 'book-result' } });
    const closeButton = h('button', { type: 'button', class: 'secondary', dataset: { testid: 'book-close' } }, t('centre.book.close'));
    closeButton.addEventListener('click', close);
    const say = (text, kind) => {
      result.className = `booking-alert ${kind}`;
      result.textContent = text;
    };
    const calendar = createCalendar({
      candidateId: candidate.id,
      explain: (res) => (EXPLAIN[res.code] ? t(EXPLAIN[res.code]) : null),
      onPick: async (slot, slotButton) => {
        const start = new Date(slot.start);
        const end = new Date(slot.end);
        const yes = await askSlot(tf('centre.book.question', { name: who, date: fmtDate(start), start: fmtTime(start), end: fmtTime(end) }));
        if (!yes) {
          slotButton.focus();
          return;
        }
        calendar.busy(true);
        const res = await api('POST', '/api/v1/bookings', { slot_id: slot.id, candidate_id: candidate.id }).catch(() => null);
        calendar.busy(false);
        if (res?.ok) {
          say(tf('centre.book.done', { name: who, range: fmtRange(new Date(res.data.start ?? slot.start), new Date(res.data.end ?? slot.end)) }), 'ok');
          onBooked();
          await calendar.reload();
          focusStatic(result);
          return;
        }
        say(!res ? t('journey.network') : EXPLAIN[res.code] ? t(EXPLAIN[res.code]) : `${t('booking.failed')} ${res.message}`, 'error');
        if (res?.code === 'slot_taken') await calendar.reload();
        focusStatic(result);
      },
    });
    panel.replaceChildren(heading, result, calendar.el, h('p', {}, closeButton));
    panel.hidden = false;
    focusStatic(heading);
    calendar.start();
  }

  panel.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !panel.hidden && !document.querySelector('dialog[open]')) close();
  });
  return { open };
}
