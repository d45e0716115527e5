// The journey's last steps: the oral interview (book it, or the booked slot and a way
// to change it) once the written test is finished, and the results.
import { api } from './api.js';
import { h } from './dom.js';
import { t, tf } from './i18n.js';
import { link, step } from './journey-step.js';
import { fmtRange } from './time.js';

const quiet = (p) => p.catch(() => null);

/** The "Entretien oral" step; `finished` is whether the written test is. */
export async function oralStep(finished) {
  const title = t('journey.oral.title');
  if (!finished) return step('oral', title, false, t('journey.oral.locked'), null);
  const res = await quiet(api('GET', '/api/v1/bookings/mine'));
  if (!res?.ok) {
    const why = res ? res.message : t('journey.network');
    return step('oral', title, false, t('journey.oral.text'),
      [h('p', { class: 'error' }, why), link('/static/booking.html', 'journey.oral.book', 'go-booking')]);
  }
  const b = res.data && res.data.status !== 'cancelled' ? res.data : null;
  if (!b) return step('oral', title, false, t('journey.oral.text'), link('/static/booking.html', 'journey.oral.book', 'go-booking'));
  // Only a booking still to confirm is `held`; every later phase is past that point.
  const confirmed = b.status !== 'held';
  const slot = h('p', { class: 'booked-slot', dataset: { testid: 'home-booked-slot' } },
    tf('journey.oral.booked', { range: fmtRange(new Date(b.start), new Date(b.end)) }),
    b.evaluator_name ? ` — ${tf('journey.oral.with', { name: b.evaluator_name })}` : '');
  return step('oral', title, confirmed, null,
    [slot, confirmed ? null : h('p', {}, t('journey.oral.held')),
      link('/static/booking.html', confirmed ? 'journey.oral.modify' : 'journey.oral.finish', 'go-booking')],
    t(confirmed ? 'journey.oral.status_confirmed' : 'journey.oral.status_held'));
}

/** The "Résultats" step: done once a result exists (never partial). */
export async function resultsStep(finished) {
  const title = t('journey.results.title');
  const res = finished ? await quiet(api('GET', '/api/v1/results/mine')) : null;
  const ready = Boolean(res?.ok);
  return step('results', title, ready, t(ready ? 'journey.results.ready' : 'journey.results.text'),
    link('/static/results.html', 'journey.results.go', 'go-results'));
}
