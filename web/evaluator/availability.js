// The evaluator's availability (GET/PUT /api/v1/availability): their time zone, the
// slot length, weekly windows per weekday and dated exceptions (a day off, or an extra
// window). Windows are cut into slots from their start by the server.
import { api } from '../api.js';
import { focusStatic, h } from '../dom.js';
import { t, tf } from '../i18n.js';
import { viewerZone } from '../time.js';
import { exceptionRow, windowRow } from './availability-rows.js';

const LENGTHS = [15, 20, 30, 45, 60];

function zoneField(state) {
  const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  const input = h('input', { id: 'av-tz', list: 'av-tz-list', value: state.time_zone, autocomplete: 'off', required: true, dataset: { testid: 'availability-tz' } });
  input.addEventListener('input', () => {
    input.removeAttribute('aria-invalid');
    state.time_zone = input.value.trim();
  });
  return h('div', { class: 'field' },
    h('label', { for: input.id }, t('availability.tz')), input,
    h('datalist', { id: 'av-tz-list' }, zones.map((z) => h('option', { value: z }))),
    h('p', { class: 'hint' }, t('availability.tz_hint')));
}

function lengthField(state) {
  const lengths = LENGTHS.includes(state.slot_minutes) ? LENGTHS : [...LENGTHS, state.slot_minutes].sort((a, b) => a - b);
  const select = h('select', { id: 'av-slot', dataset: { testid: 'slot-minutes' } },
    lengths.map((m) => h('option', { value: String(m) }, tf('availability.minutes', { n: m }))));
  select.value = String(state.slot_minutes);
  select.addEventListener('change', () => { state.slot_minutes = Number(select.value); });
  return h('div', { class: 'field' }, h('label', { for: select.id }, t('availability.slot')), select);
}

/** The first wrong control's id and why, or null when the form can be sent. */
function problem(state) {
  if (!state.time_zone) return ['av-tz', t('availability.bad_tz')];
  for (const [n, w] of state.weekly.entries()) {
    if (!w.start) return [`window-${n}-start`, tf('availability.bad_window', { n: n + 1 })];
    if (!w.end || w.end <= w.start) return [`window-${n}-end`, tf('availability.bad_window', { n: n + 1 })];
  }
  for (const [n, x] of state.exceptions.entries()) {
    if (!x.date) return [`exception-${n}-date`, tf('availability.bad_date', { n: n + 1 })];
    if (x.kind !== 'extra') continue;
    if (!x.start) return [`exception-${n}-start`, tf('availability.bad_exception', { n: n + 1 })];
    if (!x.end || x.end <= x.start) return [`exception-${n}-end`, tf('availability.bad_exception', { n: n + 1 })];
  }
  return null;
}

/** What PUT sends: only the fields an exception of its kind has. */
function body(state) {
  return {
    time_zone: state.time_zone,
    slot_minutes: state.slot_minutes,
    weekly: state.weekly.map(({ weekday, start, end }) => ({ weekday, start, end })),
    exceptions: state.exceptions.map(({ date, kind, start, end }) => (kind === 'extra' ? { date, kind, start, end } : { date, kind })),
  };
}

function editor(box, state) {
  const windows = h('ol', { class: 'rows', dataset: { testid: 'windows' } });
  const exceptions = h('ol', { class: 'rows', dataset: { testid: 'exceptions' } });
  const addWindow = h('button', { type: 'button', class: 'secondary', dataset: { testid: 'add-window' } }, t('availability.add_window'));
  const addException = h('button', { type: 'button', class: 'secondary', dataset: { testid: 'add-exception' } }, t('availability.add_exception'));
  const status = h('p', { class: 'form-status', role: 'status', dataset: { testid: 'availability-status' } });
  const save = h('button', { type: 'submit', dataset: { testid: 'save-availability' } }, t('availability.save'));

  // Rows are drawn again after an add or a remove, so their numbers follow the arrays.
  function draw(focusId) {
    windows.replaceChildren(...state.weekly.map((w, n) => windowRow(w, n, () => remove(state.weekly, n, 'window', addWindow))));
    exceptions.replaceChildren(...state.exceptions.map((x, n) => exceptionRow(x, n, () => remove(state.exceptions, n, 'exception', addException))));
    if (focusId) document.getElementById(focusId)?.focus();
  }
  function remove(list, n, kind, fallback) {
    list.splice(n, 1);
    const next = n < list.length ? n : n - 1;
    draw(next >= 0 ? `${kind}-${next}-${kind === 'window' ? 'weekday' : 'date'}` : null);
    if (next < 0) fallback.focus();
    say('', tf(`availability.removed_${kind}`, { n: n + 1 }));
  }
  function say(kind, text) {
    status.className = `form-status ${kind}`;
    status.textContent = text;
  }

  addWindow.addEventListener('click', () => {
    const last = state.weekly.at(-1);
    state.weekly.push({ weekday: last ? (last.weekday % 7) + 1 : 1, start: last?.start ?? '09:00', end: last?.end ?? '12:00' });
    draw(`window-${state.weekly.length - 1}-weekday`);
  });
  addException.addEventListener('click', () => {
    state.exceptions.push({ date: '', kind: 'off' });
    draw(`exception-${state.exceptions.length - 1}-date`);
  });

  const form = h('form', { class: 'form availability-form', novalidate: true, dataset: { testid: 'availability-form' } },
    zoneField(state), lengthField(state),
    h('h3', {}, t('availability.weekly')), h('p', { class: 'hint' }, t('availability.weekly_hint')),
    windows, h('p', {}, addWindow),
    h('h3', {}, t('availability.exceptions')), h('p', { class: 'hint' }, t('availability.exceptions_hint')),
    exceptions, h('p', {}, addException),
    h('p', {}, save), status);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const wrong = problem(state);
    if (wrong) {
      const el = document.getElementById(wrong[0]);
      el?.setAttribute('aria-invalid', 'true');
      say('error', wrong[1]);
      el?.focus();
      return;
    }
    if (save.getAttribute('aria-disabled') === 'true') return;
    save.setAttribute('aria-disabled', 'true');
    say('', t('availability.saving'));
    const res = await api('PUT', '/api/v1/availability', body(state)).catch(() => null);
    save.removeAttribute('aria-disabled');
    if (res?.ok) say('ok', t('availability.saved'));
    else say('error', !res ? t('journey.network') : `${t('availability.save_failed')} ${res.message}`);
  });
  box.replaceChildren(form);
  draw(null);
}

/** Reads the evaluator's availability into an editor in `box`. */
export async function showAvailability(box) {
  const res = await api('GET', '/api/v1/availability').catch(() => null);
  if (res && !res.ok && res.status !== 404) {
    box.replaceChildren(h('p', { class: 'error', role: 'alert' }, `${t('journey.error')} ${res.message}`));
    return;
  }
  if (!res) {
    const retry = h('button', { type: 'button', class: 'secondary' }, t('availability.retry'));
    retry.addEventListener('click', () => showAvailability(box).then(() => focusStatic(box.firstElementChild)));
    box.replaceChildren(h('p', { class: 'error', role: 'alert' }, t('journey.network')), retry);
    return;
  }
  const a = res.ok && res.data ? res.data : {};
  editor(box, {
    time_zone: a.time_zone || viewerZone(),
    slot_minutes: Number(a.slot_minutes) || 30,
    weekly: Array.isArray(a.weekly) ? a.weekly.map((w) => ({ ...w })) : [],
    exceptions: Array.isArray(a.exceptions) ? a.exceptions.map((x) => ({ ...x })) : [],
  });
}
