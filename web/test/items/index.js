// One item on screen: its instruction, how to answer (the guide's wording for its
// type) and the renderer of its type. Every renderer gives `response()` in the shape
// of the API contract (docs/written-test.md).
import { h } from '../../dom.js';
import { t } from '../../i18n.js';
import { renderChoice } from './choice.js';
import { renderDropdownGaps } from './dropdown-gaps.js';
import { renderListening } from './listening.js';
import { renderOrderSentences, renderOrderWords } from './order.js';
import { renderTextGaps } from './text-gaps.js';
import { renderWordBank } from './word-bank.js';

const RENDERERS = {
  dropdown_gaps: renderDropdownGaps,
  order_sentences: renderOrderSentences,
  word_bank: renderWordBank,
  order_words: renderOrderWords,
  text_gaps: renderTextGaps,
  choice: renderChoice,
  listening: renderListening,
};

/** The language an item is written in: its `language`, else its id's prefix (`en-…`). */
export function itemLanguage(item) {
  if (item.language) return item.language;
  const m = /^([a-z]{2})-/.exec(item.id ?? '');
  return m ? m[1] : null;
}

/**
 * The item's element, `response()`, and `dispose()` (stops a clip). `ctx` carries
 * what a renderer needs from the page's mode (`playClip` for listening items).
 */
export function renderItem(item, ctx) {
  const render = RENDERERS[item.type];
  if (!render) throw new Error(`unknown item type ${item.type}`);
  const body = render(item, ctx);
  const el = h('div', { class: `item item-${item.type}`, dataset: { testid: 'item', type: item.type, itemId: item.id } },
    h('p', { class: 'how-to' }, t(`item.howto.${item.type}${item.type === 'listening' ? '.' + item.response : ''}`)),
    h('div', { class: 'item-content', lang: itemLanguage(item) },
      h('p', { class: 'instruction' }, item.instruction),
      body.el));
  return { el, response: body.response, dispose: body.dispose ?? (() => {}) };
}
