// How the review pages name things: severities and priorities (a shape and a word
// beside the colour), event kinds, decisions, audit actions, times within a session.
import { h } from '../dom.js';
import { lang, t, tf } from '../i18n.js';
import { fmtDuration } from '../call/clock.js';

/** The shape of each level: the colour is never the only clue. */
const SHAPES = { high: '▲', medium: '◆', low: '●', info: '○' };
const MARKS = { pending: '•', confirmed: '✓', dismissed: '✗', validated: '✓', invalidated: '✗' };

/** The message of `key`, or `fallback` when the catalogue has none. */
function known(key, fallback) {
  const text = t(key);
  return text === key ? fallback : text;
}

export const severityText = (s) => known(`review.severity.${s}`, s);
export const priorityText = (p) => known(`review.priority.${p}`, p);
export const kindText = (k) => known(`review.kind.${k}`, k);
export const statusText = (s) => known(`review.status.${s}`, s);
export const shape = (level) => SHAPES[level] ?? '■';

/** "▲ Élevée": a level with its shape, for severities and priorities alike. */
export function levelBadge(level, text, extra = {}) {
  return h('span', { class: `level level-${level}`, ...extra }, h('span', { class: 'level-shape', 'aria-hidden': 'true' }, shape(level)), ' ', text);
}

/** "✓ Confirmé": a decision with its mark. */
export function statusBadge(status, extra = {}) {
  return h('span', { class: `decision decision-${status}`, ...extra },
    h('span', { 'aria-hidden': 'true' }, MARKS[status] ?? '•'), ' ', statusText(status));
}

/** "02:13": an offset from the session's start. */
export const at = (ms) => fmtDuration(ms);

/** "02:13 – 02:41 (28 s)". */
export function span(startMs, endMs) {
  return tf('review.span', { start: at(startMs), end: at(endMs), s: Math.max(0, Math.round((endMs - startMs) / 1000)) });
}

/** "87 %" of a confidence in [0, 1] (or already in percent), "—" when unknown. */
export function percent(value) {
  if (value === null) return '—';
  const share = value <= 1 ? value : value / 100;
  return share.toLocaleString(lang, { style: 'percent', maximumFractionDigits: 0 });
}

/** A number as the page's language writes it ("0,82"). */
export const decimal = (v) => v.toLocaleString(lang, { maximumFractionDigits: 3 });

/**
 * An audit action in words; the server may say `confirmed` or `event_confirmed`,
 * `invalidated` or `session_invalidated`.
 */
export function actionText(action) {
  const bare = action.replace(/^(event|session)[_.]/, '');
  return known(`review.action.${action}`, known(`review.action.${bare}`, action));
}
