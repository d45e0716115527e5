// What the question timer shows, from the remaining and the allowed time. No I/O.
// Green for the first half of the time, then yellow, then red for the last quarter.

/** Remaining times (ms) at which the timer is announced to screen readers. */
export const ANNOUNCE_AT_MS = [30_000, 10_000, 0];

/** `green`, `yellow`, `red`, or `over` once no time is left. */
export function timerPhase(remainingMs, limitMs) {
  if (remainingMs <= 0) return 'over';
  const share = remainingMs / limitMs;
  if (share > 0.5) return 'green';
  if (share > 0.25) return 'yellow';
  return 'red';
}

/** The share of the bar still filled, between 0 and 1. */
export function timerFraction(remainingMs, limitMs) {
  if (!(limitMs > 0)) return 0;
  return Math.min(1, Math.max(0, remainingMs / limitMs));
}

/** The remaining time as the page shows it: whole seconds rounded up, "m:ss". */
export function formatRemaining(ms) {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/**
 * The announcement mark crossed between two readings (the smallest when several
 * were crossed at once, as after a sleeping tab), or null.
 */
export function crossedMark(previousMs, currentMs, marks = ANNOUNCE_AT_MS) {
  let crossed = null;
  for (const m of marks) if (previousMs > m && currentMs <= m) crossed = crossed === null ? m : Math.min(crossed, m);
  return crossed;
}
