// Building elements: `h('button', { type: 'button', dataset: { testid: 'play' } }, 'text')`.
// Text is always set as text (never parsed as HTML): item texts come from the bank.

/**
 * A new element. `attrs` keys: `class`, `dataset` (object), `on` (event → handler),
 * `hidden`/`disabled`/`checked`… (properties), anything else as an attribute.
 * Children are nodes, strings, or null/false (skipped), possibly in nested arrays.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    // Through the CSSOM: the Content Security Policy refuses style attributes.
    else if (key === 'style') el.style.cssText = value;
    else if (key === 'on') for (const [ev, fn] of Object.entries(value)) el.addEventListener(ev, fn);
    else if (key in PROPS) el[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

const PROPS = { hidden: 1, disabled: 1, checked: 1, value: 1, textContent: 1, tabIndex: 1, muted: 1 };

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

/** Text for screen readers only, in the language of the page (items may be in another). */
export function srOnly(text) {
  return h('span', { class: 'sr-only', lang: document.documentElement.lang || null }, text);
}

/** Moves focus to an element that is not focusable by Tab (a heading, a message). */
export function focusStatic(el) {
  if (!el) return;
  if (!el.hasAttribute('tabindex')) el.setAttribute('tabindex', '-1');
  el.focus();
}
