// An event's clip as a flip-book: one <img> showing the frames at their own pace (the
// gaps between their offsets), play/pause, and a slider to step through them.
import { h } from '../dom.js';
import { t, tf } from '../i18n.js';
import { at } from './labels.js';

/** A frame never stays less than this, nor more, when playing. */
const SHORTEST_MS = 40;
const LONGEST_MS = 2000;

/**
 * A player of `frames` (`[{ offsetMs, url }]`, sorted). Returns `{ el, dispose() }`;
 * `dispose()` stops it (another event was selected).
 */
export function clipPlayer(frames) {
  if (!frames.length) return { el: h('p', { class: 'muted', dataset: { testid: 'clip' } }, t('review.clip.none')), dispose() {} };
  // Fetched once, so playing does not wait for the network at every frame.
  const cache = frames.map((f) => Object.assign(new Image(), { src: f.url }));
  const img = h('img', { class: 'clip-frame', alt: '' });
  const play = h('button', { type: 'button', class: 'secondary small', dataset: { testid: 'clip-play' } });
  const slider = h('input', {
    type: 'range', min: '0', max: String(frames.length - 1), step: '1', value: '0',
    'aria-label': t('review.clip.position'), dataset: { testid: 'clip-position' },
  });
  const where = h('span', { class: 'clip-time', 'aria-hidden': 'true' });
  let index = 0;
  let timer = null;

  function show(i) {
    index = i;
    const f = frames[i];
    img.src = f.url;
    const text = tf('review.clip.frame', { n: i + 1, total: frames.length, time: at(f.offsetMs) });
    img.alt = text;
    where.textContent = text;
    slider.value = String(i);
    slider.setAttribute('aria-valuetext', text);
  }

  function label() {
    const playing = timer !== null;
    play.textContent = '';
    play.append(h('span', { 'aria-hidden': 'true' }, playing ? '❚❚ ' : '▶ '), t(playing ? 'review.clip.pause' : 'review.clip.play'));
    play.setAttribute('aria-pressed', String(playing));
  }

  function pause() {
    clearTimeout(timer);
    timer = null;
    label();
  }

  function tick() {
    if (index >= frames.length - 1) {
      pause();
      return;
    }
    const wait = frames[index + 1].offsetMs - frames[index].offsetMs;
    timer = setTimeout(() => {
      show(index + 1);
      tick();
    }, Math.min(LONGEST_MS, Math.max(SHORTEST_MS, wait)));
  }

  play.addEventListener('click', () => {
    if (timer !== null) {
      pause();
      return;
    }
    if (index >= frames.length - 1) show(0);
    timer = 0;
    label();
    tick();
  });
  slider.addEventListener('input', () => {
    pause();
    show(Number(slider.value));
  });

  show(0);
  label();
  const el = h('div', { class: 'clip', role: 'group', 'aria-label': t('review.clip.title'), dataset: { testid: 'clip' } },
    img, h('div', { class: 'clip-controls' }, play, slider, where));
  return {
    el,
    dispose() {
      pause();
      cache.length = 0;
    },
  };
}
