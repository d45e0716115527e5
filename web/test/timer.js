// The question timer: a bar that shrinks and changes colour, the remaining time as
// text, and a screen-reader announcement at 30 s, 10 s and when time is up.
import { h, srOnly } from '../dom.js';
import { t, tf } from '../i18n.js';
import { crossedMark, formatRemaining, timerFraction, timerPhase } from './timer-core.js';

const TICK_MS = 250;

/**
 * A running timer for a question whose time ends at `deadlineMs` on `clock`.
 * `onExpire` is called once, when no time is left. Returns `{ el, stop }`.
 */
export function startTimer({ limitMs, deadlineMs, clock, onExpire }) {
  const fill = h('div', { class: 'timer-fill' });
  const text = h('span', { class: 'timer-text', dataset: { testid: 'timer-text' } });
  const live = h('span', { class: 'sr-only', 'aria-live': 'polite', dataset: { testid: 'timer-announce' } });
  const el = h('div', { class: 'timer', role: 'group', 'aria-label': t('test.timer.label'), dataset: { testid: 'timer' } },
    h('div', { class: 'timer-track', 'aria-hidden': 'true' }, fill),
    h('p', { class: 'timer-line' }, srOnly(t('test.timer.remaining')), text),
    live);

  let previous = deadlineMs - clock.now(performance.now());
  let expired = false;
  const tick = () => {
    const remaining = deadlineMs - clock.now(performance.now());
    const phase = timerPhase(remaining, limitMs);
    el.dataset.phase = phase;
    fill.style.width = `${(timerFraction(remaining, limitMs) * 100).toFixed(2)}%`;
    text.textContent = formatRemaining(remaining);
    const mark = crossedMark(previous, remaining);
    if (mark !== null) live.textContent = mark === 0 ? t('test.timer.up') : tf('test.timer.left', { s: mark / 1000 });
    previous = remaining;
    if (remaining <= 0 && !expired) {
      expired = true;
      clearInterval(interval);
      setTimeout(() => onExpire?.(), 0);
    }
  };
  const interval = setInterval(tick, TICK_MS);
  document.addEventListener('visibilitychange', tick);
  tick();
  return {
    el,
    stop() {
      clearInterval(interval);
      document.removeEventListener('visibilitychange', tick);
    },
  };
}
