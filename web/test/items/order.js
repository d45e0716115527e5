// "Texte dans le désordre" and "Phrase dans le désordre": the first sentence (or
// word) is given; clicking a piece places it after the last placed one, clicking a
// placed piece takes it back. No drag and drop: every piece is a button.
import { h, srOnly } from '../../dom.js';
import { lang, t, tf } from '../../i18n.js';

/**
 * The picker shared by both types. `kind` is `sentence` or `word`; pieces keep their
 * test id wherever they are (`sentence-<index>` or `token-<index>`, index into
 * `shuffled`), and `data-placed` says where they are.
 */
function orderPicker(item, kind) {
  const pieces = item.shuffled;
  const order = [];
  const live = h('p', { class: 'sr-only', lang, 'aria-live': 'polite' });
  const buttons = pieces.map((text, i) => {
    const hint = srOnly('');
    const b = h('button', {
      type: 'button',
      class: `piece piece-${kind}`,
      dataset: { testid: kind === 'sentence' ? `sentence-${i}` : `token-${i}`, placed: 'false', text },
      on: { click: () => toggle(i) },
    }, h('span', {}, text), hint);
    b.hint = hint;
    return b;
  });
  const isSentence = kind === 'sentence';
  const pool = isSentence
    ? h('ul', { class: 'pool pool-sentences', 'aria-label': t('item.order.pool.sentences') })
    : h('div', { class: 'pool pool-words', role: 'group', 'aria-label': t('item.order.pool.words') });
  const answer = isSentence
    ? h('ol', { class: 'answer answer-sentences', 'aria-label': t('item.order.answer.sentences') })
    : h('p', { class: 'answer answer-words', 'aria-label': t('item.order.answer.words') });
  const firstEl = isSentence
    ? h('li', { class: 'given', dataset: { testid: 'given' } }, item.first, srOnly(t('item.order.given')))
    : h('span', { class: 'given', dataset: { testid: 'given' } }, item.first, srOnly(t('item.order.given')));

  const poolOrder = () => pieces.map((_, i) => i).filter((i) => !order.includes(i));
  const wrap = (b) => (isSentence ? h('li', {}, b) : b);

  function sync() {
    for (const [i, b] of buttons.entries()) {
      const placed = order.includes(i);
      b.dataset.placed = String(placed);
      b.hint.textContent = placed ? t('item.order.remove') : '';
    }
    pool.replaceChildren(...poolOrder().map((i) => wrap(buttons[i])));
    answer.replaceChildren(firstEl, ...order.map((i) => wrap(buttons[i])));
    pool.hidden = poolOrder().length === 0;
  }

  function toggle(i) {
    const at = order.indexOf(i);
    let next;
    if (at < 0) {
      const before = poolOrder();
      const pos = before.indexOf(i);
      order.push(i);
      sync();
      const after = poolOrder();
      next = after[pos] ?? after[pos - 1] ?? i;
      live.textContent = tf('item.order.placed', { n: order.length + 1 });
    } else {
      order.splice(at, 1);
      sync();
      next = order[at] ?? order[at - 1] ?? i;
      live.textContent = t('item.order.removed');
    }
    buttons[next].focus();
  }

  sync();
  const title = item.passage_title ? h('h3', { class: 'passage-title' }, item.passage_title) : null;
  const el = isSentence
    ? h('div', { class: 'order order-sentences' }, title, h('div', { class: 'order-columns' }, pool, h('div', { class: 'answer-box' }, answer)), live)
    : h('div', { class: 'order order-words' }, h('div', { class: 'answer-box' }, answer), pool, live);
  return {
    el,
    response: () => ({ order: pieces.map((_, k) => order[k] ?? null) }),
  };
}

/** Response: `{ order: [index | null, …] }`, indexes into `shuffled` after `first`. */
export function renderOrderSentences(item) {
  return orderPicker(item, 'sentence');
}

/** Response: `{ order: [index | null, …] }`, indexes into `shuffled` after `first`. */
export function renderOrderWords(item) {
  return orderPicker(item, 'word');
}
