// The candidates of the centre (GET /api/v1/centre/candidates), one row each, with the
// state of each part and a "Réserver l'oral" button.
import { api } from '../api.js';
import { h } from '../dom.js';
import { t, tf } from '../i18n.js';
import { hasBooking, oralCell, oralState, resultCell, writtenCell } from './cells.js';

const name = (c) => `${c.last_name ?? ''} ${c.first_names ?? ''}`.trim() || c.email || c.id;

// A candidate who has an interview booked already has no "Réserver l'oral".
function row(c, onBook) {
  const book = hasBooking(c) ? null : h('button', {
    type: 'button',
    class: 'secondary small',
    'aria-label': tf('centre.book.for', { name: name(c) }),
    dataset: { testid: `book-${c.id}` },
  }, t('centre.book.button'));
  book?.addEventListener('click', () => onBook(c));
  return h('tr', { dataset: { testid: `candidate-${c.id}` } },
    h('th', { scope: 'row' }, name(c)),
    h('td', {}, c.email ?? '—'),
    h('td', {}, c.cefr_target ?? '—'),
    h('td', {}, writtenCell(c)),
    h('td', { dataset: { testid: `oral-${c.id}`, state: oralState(c) ?? '' } }, oralCell(c)),
    h('td', {}, resultCell(c)),
    h('td', {}, book));
}

/** Reads the candidates into `box`; `onBook(candidate)` opens the booking. */
export async function loadCandidates(box, { onBook }) {
  const res = await api('GET', '/api/v1/centre/candidates').catch(() => null);
  if (!res?.ok) {
    box.replaceChildren(h('p', { class: 'error', role: 'alert', dataset: { testid: 'candidates-error' } },
      !res ? t('journey.network') : res.status === 401 ? t('home.signed_out') : `${t('journey.error')} ${res.message}`));
    return;
  }
  const list = Array.isArray(res.data) ? res.data : res.data?.candidates ?? [];
  if (!list.length) {
    box.replaceChildren(h('p', { dataset: { testid: 'candidates-table' } }, t('centre.empty')));
    return;
  }
  const heads = ['name', 'email', 'target', 'written', 'oral', 'result', 'actions'];
  box.replaceChildren(h('div', { class: 'table-scroll' }, h('table', { class: 'data', dataset: { testid: 'candidates-table' } },
    h('caption', { class: 'sr-only' }, tf('centre.count', { n: list.length })),
    h('thead', {}, h('tr', {}, heads.map((k) => h('th', { scope: 'col' }, t(`centre.col.${k}`))))),
    h('tbody', {}, list.map((c) => row(c, onBook))))));
}
