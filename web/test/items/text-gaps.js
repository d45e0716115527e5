// "Phrase à trou": a text field in each gap, the root word in brackets after the gap
// when the item gives one.
import { h } from '../../dom.js';
import { tf } from '../../i18n.js';
import { gappedText } from './gaps.js';

/** Response: `{ typed: ["…", "", …] }`, one string per gap. */
export function renderTextGaps(item) {
  const inputs = item.gaps.map((gap, i) =>
    h('input', {
      type: 'text',
      class: 'gap-input',
      size: 12,
      autocomplete: 'off',
      autocapitalize: 'off',
      spellcheck: 'false',
      'aria-label': gap.root ? tf('item.gap.root', { n: i + 1, root: gap.root }) : tf('item.gap', { n: i + 1 }),
      dataset: { testid: `gap-${i + 1}` },
    }));
  const gapEl = (i) => {
    const input = inputs[i];
    if (!input) return '…';
    const root = item.gaps[i].root;
    return root ? h('span', { class: 'gap-with-root' }, input, ' ', h('span', { class: 'root', 'aria-hidden': 'true' }, `(${root})`)) : input;
  };
  return {
    el: gappedText(item.text, gapEl),
    response: () => ({ typed: inputs.map((x) => x.value) }),
  };
}
