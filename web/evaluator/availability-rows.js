// The rows of the availability editor: a weekly window (weekday, start, end) and an
// exception (date, day off or extra window). Each control writes into its row's object
// as it changes; `onRemove` drops the row.
import { h } from '../dom.js';
import { t, tf } from '../i18n.js';

const WEEKDAYS = [1, 2, 3, 4, 5, 6, 7];

function timeInput(id, label, value, onChange) {
  const input = h('input', { id, type: 'time', value: value ?? '', required: true, dataset: { testid: id } });
  input.addEventListener('input', () => {
    input.removeAttribute('aria-invalid');
    onChange(input.value);
  });
  return h('span', { class: 'inline-field' }, h('label', { for: id }, label), input);
}

function removeButton(testid, label, onRemove) {
  return h('button', { type: 'button', class: 'secondary small', 'aria-label': label, dataset: { testid }, on: { click: onRemove } }, t('availability.remove'));
}

/** Weekly window `n` (0-based, as in the `weekly` array). */
export function windowRow(w, n, onRemove) {
  const id = `window-${n}`;
  const weekday = h('select', { id: `${id}-weekday`, dataset: { testid: `${id}-weekday` } },
    WEEKDAYS.map((d) => h('option', { value: String(d) }, t(`weekday.${d}`))));
  weekday.value = String(w.weekday);
  weekday.addEventListener('change', () => { w.weekday = Number(weekday.value); });
  const title = tf('availability.window', { n: n + 1 });
  return h('li', {}, h('fieldset', { class: 'row', dataset: { testid: id } },
    h('legend', {}, title),
    h('span', { class: 'inline-field' }, h('label', { for: weekday.id }, t('availability.weekday')), weekday),
    timeInput(`${id}-start`, t('availability.start'), w.start, (v) => { w.start = v; }),
    timeInput(`${id}-end`, t('availability.end'), w.end, (v) => { w.end = v; }),
    removeButton(`remove-window-${n}`, tf('availability.remove_window', { n: n + 1 }), onRemove)));
}

/** Exception `n`: a date `off`, or an `extra` window that day. */
export function exceptionRow(x, n, onRemove) {
  const id = `exception-${n}`;
  const date = h('input', { id: `${id}-date`, type: 'date', value: x.date ?? '', required: true, dataset: { testid: `${id}-date` } });
  date.addEventListener('input', () => {
    date.removeAttribute('aria-invalid');
    x.date = date.value;
  });
  const kind = h('select', { id: `${id}-kind`, dataset: { testid: `${id}-kind` } },
    h('option', { value: 'off' }, t('availability.kind.off')),
    h('option', { value: 'extra' }, t('availability.kind.extra')));
  kind.value = x.kind;
  const times = h('span', { class: 'times', hidden: x.kind !== 'extra' },
    timeInput(`${id}-start`, t('availability.start'), x.start, (v) => { x.start = v; }),
    timeInput(`${id}-end`, t('availability.end'), x.end, (v) => { x.end = v; }));
  kind.addEventListener('change', () => {
    x.kind = kind.value;
    times.hidden = x.kind !== 'extra';
    if (x.kind === 'extra') {
      x.start ||= '09:00';
      x.end ||= '12:00';
      for (const input of times.querySelectorAll('input')) input.value = input.id.endsWith('start') ? x.start : x.end;
    }
  });
  return h('li', {}, h('fieldset', { class: 'row', dataset: { testid: id } },
    h('legend', {}, tf('availability.exception', { n: n + 1 })),
    h('span', { class: 'inline-field' }, h('label', { for: date.id }, t('availability.date')), date),
    h('span', { class: 'inline-field' }, h('label', { for: kind.id }, t('availability.kind')), kind),
    times,
    removeButton(`remove-exception-${n}`, tf('availability.remove_exception', { n: n + 1 }), onRemove)));
}
