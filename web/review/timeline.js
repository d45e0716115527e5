// The session's timeline: the questions on one track, the flagged events on another
// (stacked when they overlap), a time axis in mm:ss. An event is a button: a click or
// Enter selects it. Severity is a colour, a pattern and a shape at once.
import { h } from '../dom.js';
import { t, tf } from '../i18n.js';
import { at, kindText, severityText, shape, statusText } from './labels.js';

/** The narrowest an event is drawn, as a share of the session (so it can be clicked). */
const MIN_SHARE = 0.02;
/** The height of a row of events, in rem (the events of a row never overlap). */
const ROW_REM = 2.2;
/** Axis steps to pick from, in seconds: the first giving at most 8 ticks. */
const STEPS_S = [10, 15, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600];

const pct = (ms, total) => `${((100 * ms) / total).toFixed(3)}%`;

/** When the question ended: answered, else when the next one came, else a sliver. */
function itemEnd(items, i, total) {
  const it = items[i];
  return it.answeredMs ?? items[i + 1]?.presentedMs ?? Math.min(total, it.presentedMs + total * 0.005);
}

function itemsTrack(items, total) {
  return items.map((it, i) => {
    const end = Math.max(itemEnd(items, i, total), it.presentedMs);
    const label = tf('review.timeline.item', {
      n: it.index, domain: t(`domain.${it.domain}`), start: at(it.presentedMs), end: at(end),
    });
    return h('span', {
      class: `tl-item dom-${it.domain}`,
      style: `left:${pct(it.presentedMs, total)};width:${pct(end - it.presentedMs, total)}`,
      title: label,
    }, t(`review.domain_short.${it.domain}`));
  });
}

/** The row of each event (a Map), so that no two events of a row overlap on screen. */
function stack(events, total) {
  const ends = [];
  const rowOf = new Map();
  for (const e of events) {
    const from = e.startMs / total;
    const to = Math.max(e.endMs / total, from + MIN_SHARE);
    let row = ends.findIndex((end) => end <= from);
    if (row < 0) row = ends.push(0) - 1;
    ends[row] = to;
    rowOf.set(e.id, row);
  }
  return { rowOf, count: ends.length };
}

/** The words a screen reader says for an event. */
export function eventLabel(e) {
  return tf('review.timeline.event', {
    kind: kindText(e.kind),
    severity: severityText(e.severity).toLocaleLowerCase(),
    start: at(e.startMs),
    end: at(e.endMs),
    status: statusText(e.status).toLocaleLowerCase(),
  });
}

function eventButton(e, row, total, onSelect) {
  const share = Math.max((e.endMs - e.startMs) / total, MIN_SHARE);
  const left = Math.min(e.startMs / total, 1 - share);
  return h('button', {
    type: 'button',
    class: `tl-event sev-${e.severity}`,
    style: `left:${(100 * left).toFixed(3)}%;width:${(100 * share).toFixed(3)}%;top:${(row * ROW_REM).toFixed(2)}rem`,
    'aria-label': eventLabel(e),
    'aria-pressed': 'false',
    title: eventLabel(e),
    dataset: { testid: 'timeline-event', eventId: e.id, status: e.status, severity: e.severity },
    on: { click: () => onSelect(e.id) },
  }, h('span', { 'aria-hidden': 'true' }, shape(e.severity)));
}

function axis(total) {
  const step = (STEPS_S.find((s) => total / (s * 1000) <= 8) ?? STEPS_S.at(-1)) * 1000;
  const ticks = [];
  for (let ms = 0; ms <= total; ms += step) ticks.push(ms);
  return ticks.map((ms) => h('span', { class: 'tl-tick', style: `left:${pct(ms, total)}` }, h('span', {}, at(ms))));
}

/**
 * Draws the timeline of `session` in `box`; `onSelect(eventId)` on a click or Enter.
 * Returns `{ select(id), update(event) }`: marks the selected event, redraws one event
 * after a decision.
 */
export function renderTimeline(box, session, onSelect) {
  const total = session.durationMs;
  const { rowOf, count } = stack(session.events, total);
  const buttons = new Map();
  // One container in the order of time (the order of Tab), each event on its row.
  const events = session.events.map((e) => {
    const b = eventButton(e, rowOf.get(e.id), total, onSelect);
    buttons.set(e.id, b);
    return b;
  });
  box.replaceChildren(h('div', { class: 'timeline', dataset: { testid: 'timeline' } },
    h('span', { class: 'tl-label', 'aria-hidden': 'true' }, t('review.timeline.items')),
    h('div', { class: 'tl-track tl-items', 'aria-hidden': 'true' }, itemsTrack(session.items, total)),
    h('span', { class: 'tl-label', id: 'tl-events-label' }, t('review.timeline.events')),
    events.length
      ? h('div', { class: 'tl-track tl-events', role: 'group', 'aria-labelledby': 'tl-events-label', style: `height:${(count * ROW_REM).toFixed(2)}rem` }, events)
      : h('p', { class: 'tl-none muted' }, t('review.timeline.no_events')),
    h('span', { class: 'tl-label', 'aria-hidden': 'true' }, t('review.timeline.time')),
    h('div', { class: 'tl-track tl-axis', 'aria-hidden': 'true' }, axis(total))));
  return {
    select(id) {
      for (const [key, b] of buttons) b.setAttribute('aria-pressed', String(key === id));
    },
    update(e) {
      const b = buttons.get(e.id);
      if (!b) return;
      b.dataset.status = e.status;
      b.setAttribute('aria-label', eventLabel(e));
      b.title = eventLabel(e);
    },
  };
}
