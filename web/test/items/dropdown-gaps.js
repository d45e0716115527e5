// "Phrase à trou à proposition": one drop-down list in each gap of the text.
import { h } from '../../dom.js';
import { lang, t, tf } from '../../i18n.js';
import { gappedText } from './gaps.js';

/** Response: `{ selected: [index | null, …] }`, one per gap. */
export function renderDropdownGaps(item) {
  const selects = item.gaps.map((gap, i) =>
    h('select', { lang, 'aria-label': tf('item.gap', { n: i + 1 }), dataset: { testid: `gap-${i + 1}` } },
      h('option', { value: '' }, t('item.dropdown.empty')),
      gap.options.map((o, k) => h('option', { value: String(k) }, o))));
  return {
    el: gappedText(item.text, (i) => selects[i] ?? '…'),
    response: () => ({ selected: selects.map((s) => (s.value === '' ? null : Number(s.value))) }),
  };
}
