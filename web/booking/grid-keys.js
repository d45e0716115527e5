// The keyboard in the slot grid (ARIA grid pattern): the grid is one Tab stop (roving
// tabindex) and the arrow keys move between the slots in day and time order.
// Left/Right: the previous/next day that has slots, at the nearest time; Up/Down: the
// previous/next slot of the same day; Home/End: the first/last slot of the day
// (Ctrl+Home/End: of the week). Enter and Space are the slot buttons' own.

/**
 * Where `key` leads from slot `index` of day `day`. `days` holds, for each day, the
 * start times of its slots in minutes after midnight, in order. Returns `{ day, index }`
 * (the same place at an edge), or null when `key` is not a move.
 */
export function move(days, { day, index }, key, ctrl = false) {
  const here = days[day];
  const at = (d, i) => ({ day: d, index: i });
  switch (key) {
    case 'ArrowUp':
      return at(day, Math.max(0, index - 1));
    case 'ArrowDown':
      return at(day, Math.min(here.length - 1, index + 1));
    case 'Home':
      return ctrl ? edge(days, 1) ?? at(day, index) : at(day, 0);
    case 'End':
      return ctrl ? edge(days, -1) ?? at(day, index) : at(day, here.length - 1);
    case 'ArrowLeft':
    case 'ArrowRight': {
      const step = key === 'ArrowRight' ? 1 : -1;
      for (let d = day + step; d >= 0 && d < days.length; d += step) {
        if (days[d].length) return at(d, nearest(days[d], here[index]));
      }
      return at(day, index);
    }
    default:
      return null;
  }
}

/** The first slot of the week (`dir` 1) or its last (`dir` -1); null when none. */
function edge(days, dir) {
  const order = dir > 0 ? days.keys() : [...days.keys()].reverse();
  for (const d of order) {
    if (days[d].length) return { day: d, index: dir > 0 ? 0 : days[d].length - 1 };
  }
  return null;
}

/** The index of the time nearest to `minutes` (the earlier one on a tie). */
function nearest(times, minutes) {
  let best = 0;
  for (let i = 1; i < times.length; i++) {
    if (Math.abs(times[i] - minutes) < Math.abs(times[best] - minutes)) best = i;
  }
  return best;
}

/**
 * Wires the keyboard of `grid` over `columns`: for each day, its slots in time order as
 * `{ button, minutes }`. `stop` (a button of the grid) is the Tab stop, else the first
 * slot; the stop follows the focus (arrow keys, mouse).
 */
export function gridKeys(grid, columns, stop = null) {
  const buttons = columns.flat().map((c) => c.button);
  const times = columns.map((column) => column.map((c) => c.minutes));
  let current = buttons.includes(stop) ? stop : buttons[0];
  for (const b of buttons) b.tabIndex = b === current ? 0 : -1;

  const where = (button) => {
    for (const [day, column] of columns.entries()) {
      const index = column.findIndex((c) => c.button === button);
      if (index >= 0) return { day, index };
    }
    return null;
  };

  grid.addEventListener('focusin', (event) => {
    if (!buttons.includes(event.target) || event.target === current) return;
    current.tabIndex = -1;
    current = event.target;
    current.tabIndex = 0;
  });
  grid.addEventListener('keydown', (event) => {
    if (event.altKey || event.metaKey || event.shiftKey) return;
    const from = where(event.target);
    const to = from && move(times, from, event.key, event.ctrlKey);
    if (!to) return;
    event.preventDefault();
    columns[to.day][to.index].button.focus();
  });
}
