// Texts with gaps written {1}, {2}… (items.md): split into text runs and gaps, and
// built into a paragraph where each gap is an element made by the caller.
import { h } from '../../dom.js';

/** `[{ text }, { gap: 0 }, …]`; gap numbers in the text are 1-based, `gap` is 0-based. */
export function splitGaps(text) {
  const parts = [];
  const re = /\{(\d+)\}/g;
  let last = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m.index > last) parts.push({ text: text.slice(last, m.index) });
    parts.push({ gap: Number(m[1]) - 1 });
    last = re.lastIndex;
  }
  if (last < text.length) parts.push({ text: text.slice(last) });
  return parts;
}

/** A block of `text` (line breaks kept) where gap `i` is `makeGap(i)`. */
export function gappedText(text, makeGap) {
  const parts = splitGaps(text).map((p) => ('gap' in p ? makeGap(p.gap) : p.text));
  return h('div', { class: 'gapped-text' }, parts);
}

/** How many gaps a text has (the highest gap number). */
export function gapCount(text) {
  return splitGaps(text).reduce((n, p) => ('gap' in p ? Math.max(n, p.gap + 1) : n), 0);
}
