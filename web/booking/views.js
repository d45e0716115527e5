// The screens after a slot is chosen: the booked slot with "Modifier le RDV" and
// "Confirmer et quitter", then the confirmation that the e-mail was sent.
import { focusStatic, h } from '../dom.js';
import { t, tf, withLang } from '../i18n.js';
import { fmtRange } from '../time.js';

const homeLink = () => h('a', { href: withLang('/app/'), class: 'button-link', dataset: { testid: 'back-home' } }, t('nav.home'));
const mailboxLink = () => h('a', { href: withLang('/static/mailbox.html'), dataset: { testid: 'go-mailbox' } }, t('booking.done.mailbox'));

/** "19/03/2022 10:00 - 19/03/2022 10:30" for a booking of the API. */
export function bookingRange(b) {
  return fmtRange(new Date(b.start), new Date(b.end));
}

function screen(stage, testid, title, ...content) {
  const heading = h('h2', { tabindex: '-1' }, title);
  stage.replaceChildren(h('section', { class: 'booking-view', dataset: { testid } }, heading, content));
  focusStatic(heading);
}

/**
 * The booked slot. A held booking offers "Modifier le RDV" and "Confirmer et quitter";
 * a confirmed one offers "Modifier le RDV" and the way home. `changed` adds that an
 * updated invitation was mailed (a confirmed booking moved). Returns the two buttons'
 * handlers' targets so the caller can lock them.
 */
export function showBooked(stage, booking, { changed = false, onModify, onConfirm }) {
  const held = booking.status === 'held';
  const modify = h('button', { type: 'button', class: 'secondary', dataset: { testid: 'modify-booking' } }, t('booking.booked.modify'));
  const confirm = held ? h('button', { type: 'button', dataset: { testid: 'confirm-booking' } }, t('booking.booked.confirm')) : null;
  const status = h('p', { class: 'booking-status', role: 'status', dataset: { testid: 'booking-status' } });
  modify.addEventListener('click', onModify);
  confirm?.addEventListener('click', () => onConfirm({ confirm, modify, status }));
  screen(stage, 'booking-confirmation', t(held ? 'booking.booked.title' : 'booking.booked.title_confirmed'),
    h('p', { class: 'booked-slot', dataset: { testid: 'booked-slot' } }, tf('booking.booked.slot', { range: bookingRange(booking) })),
    booking.evaluator_name
      ? h('p', { dataset: { testid: 'booked-evaluator' } }, tf('booking.booked.evaluator', { name: booking.evaluator_name }))
      : null,
    h('p', {}, t(held ? 'booking.booked.can_modify' : 'booking.booked.confirmed')),
    changed && !held ? h('p', { class: 'ok', dataset: { testid: 'booking-updated' } }, t('booking.booked.updated')) : null,
    h('div', { class: 'actions' }, modify, confirm ?? homeLink()),
    status);
}

/** "Confirmation": the mail with the calendar invitation is on its way. */
export function showDone(stage, booking) {
  screen(stage, 'booking-done', t('booking.done.title'),
    h('p', { class: 'booked-slot', dataset: { testid: 'booked-slot' } }, tf('booking.booked.slot', { range: bookingRange(booking) })),
    h('p', { class: 'ok' }, t('booking.done.mail')),
    h('p', {}, t('booking.done.reminder')),
    h('p', {}, t('booking.done.spam'), ' ', mailboxLink()),
    h('p', {}, homeLink()));
}

/** A message in place of the calendar (written test not finished, signed out…). */
export function showMessage(stage, title, text) {
  screen(stage, 'booking-message', title, h('p', {}, text), h('p', {}, homeLink()));
}
