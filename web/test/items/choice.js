// "Questions à choix multiples": a text to read (optional), a question, one answer
// among the options (radio buttons: arrow keys move between them).
import { h } from '../../dom.js';

let groups = 0;

/** Paragraphs of a plain text (blank lines separate them, single breaks are kept). */
export function paragraphs(text) {
  return text.split(/\n\s*\n/).map((p) => h('p', {}, p));
}

/** Response: `{ choice: index | null }`. */
export function renderChoice(item) {
  const name = `choice-${++groups}`;
  const inputs = item.options.map((_, k) => h('input', { type: 'radio', name, value: String(k), dataset: { testid: `option-${k}` } }));
  const el = h('div', { class: 'choice' },
    item.passage ? h('div', { class: 'passage' }, paragraphs(item.passage)) : null,
    h('fieldset', { class: 'options' },
      h('legend', { class: 'stem' }, item.stem),
      item.options.map((o, k) => h('label', { class: 'option' }, inputs[k], h('span', {}, o)))));
  return {
    el,
    response: () => {
      const checked = inputs.find((x) => x.checked);
      return { choice: checked ? Number(checked.value) : null };
    },
  };
}
