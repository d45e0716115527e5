// The blocks of the candidate's journey: a step (title, status, text, action) and the
// link that opens another page.
import { h } from './dom.js';
import { t, withLang } from './i18n.js';

/** One step; `label` replaces "Fait" / "À faire" (a booked interview, say). */
export function step(id, title, done, text, action, label = null) {
  return h('li', { class: `step ${done ? 'done' : 'todo'}`, dataset: { testid: `step-${id}`, done: String(done) } },
    h('h3', {}, title),
    h('p', { class: 'step-status' }, h('span', { class: 'badge', 'aria-hidden': 'true' }, done ? '✓' : '•'), ' ',
      label ?? (done ? t('journey.done') : t('journey.todo'))),
    text ? h('p', {}, text) : null,
    action);
}

/** A link styled as a button to another of our pages. */
export const link = (href, key, testid) => h('a', { href: withLang(href), class: 'button-link', dataset: { testid } }, t(key));

