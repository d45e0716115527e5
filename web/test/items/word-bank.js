// "Banque de mots": click a gap then a word, or a word then a gap; a placed word
// leaves the bank; clicking a placed word takes it back. There are more words than
// gaps. No drag and drop: gaps and words are buttons.
import { h } from '../../dom.js';
import { lang, t, tf } from '../../i18n.js';
import { gappedText } from './gaps.js';

/** The empty state: nothing placed, nothing selected. */
export function wordBankStart(gapCount) {
  return { placed: Array(gapCount).fill(null), gap: null, word: null };
}

/**
 * The state after a click (no I/O). `placed[g]` is a word index or null; `gap` and
 * `word` are the selected gap or word waiting for their other half.
 */
export function wordBankClick(state, click) {
  const placed = [...state.placed];
  if (click.gap !== undefined) {
    const g = click.gap;
    if (state.word !== null) {
      placed[g] = state.word;
      return { placed, gap: null, word: null };
    }
    if (placed[g] !== null) {
      placed[g] = null;
      return { placed, gap: null, word: null };
    }
    return { placed, gap: state.gap === g ? null : g, word: null };
  }
  const w = click.word;
  if (state.gap !== null) {
    placed[state.gap] = w;
    return { placed, gap: null, word: null };
  }
  return { placed, gap: null, word: state.word === w ? null : w };
}

/** Response: `{ placed: ["word" | null, …] }`, one per gap. */
export function renderWordBank(item) {
  const words = item.words;
  const count = item.gap_count ?? item.text.match(/\{\d+\}/g)?.length ?? 0;
  let state = wordBankStart(count);
  const live = h('p', { class: 'sr-only', lang, 'aria-live': 'polite' });

  const gaps = Array.from({ length: count }, (_, g) =>
    h('button', { type: 'button', class: 'gap-slot', lang, dataset: { testid: `gap-${g + 1}` }, on: { click: () => click({ gap: g }) } }));
  const wordButtons = words.map((w, k) =>
    h('button', { type: 'button', class: 'bank-word', dataset: { testid: `word-${w}` }, on: { click: () => click({ word: k }) } }, w));
  const bank = h('div', { class: 'bank', role: 'group', 'aria-label': t('item.bank.words') });

  function sync() {
    const { placed } = state;
    for (const [g, b] of gaps.entries()) {
      const w = placed[g];
      b.textContent = w === null ? '\u00a0' : words[w];
      b.dataset.filled = String(w !== null);
      b.setAttribute('aria-pressed', String(state.gap === g));
      b.classList.toggle('target', state.word !== null);
      b.setAttribute('aria-label', w === null ? tf('item.bank.gap.empty', { n: g + 1 }) : tf('item.bank.gap.filled', { n: g + 1, word: words[w] }));
    }
    for (const [k, b] of wordButtons.entries()) b.setAttribute('aria-pressed', String(state.word === k));
    bank.replaceChildren(...wordButtons.filter((_, k) => !placed.includes(k)));
  }

  function click(c) {
    const before = state;
    state = wordBankClick(state, c);
    sync();
    const g = c.gap ?? before.gap;
    const placedNow = g !== null && g !== undefined && state.placed[g] !== null && before.placed[g] !== state.placed[g];
    if (placedNow) {
      live.textContent = tf('item.bank.placed', { word: words[state.placed[g]], n: g + 1 });
      if (c.word !== undefined) {
        // Placed from the bank: the word's button is gone, go on to the next empty gap.
        const next = state.placed.findIndex((w, i) => w === null && i > g);
        const any = state.placed.findIndex((w) => w === null);
        gaps[next >= 0 ? next : any >= 0 ? any : g].focus();
      }
    } else if (c.gap !== undefined && before.placed[c.gap] !== null && state.placed[c.gap] === null) {
      live.textContent = tf('item.bank.removed', { word: words[before.placed[c.gap]], n: c.gap + 1 });
    } else if (state.gap !== null) {
      live.textContent = tf('item.bank.gap.selected', { n: state.gap + 1 });
    } else if (state.word !== null) {
      live.textContent = tf('item.bank.word.selected', { word: words[state.word] });
    }
  }

  sync();
  return {
    el: h('div', { class: 'word-bank' }, gappedText(item.text, (g) => gaps[g] ?? '…'), bank, live),
    response: () => ({ placed: state.placed.map((w) => (w === null ? null : words[w])) }),
  };
}
