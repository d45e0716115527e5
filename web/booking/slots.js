// The free slots of one week (GET /api/v1/slots) and their layout in the calendar:
// one column per day from Monday, one row per hour from the earliest slot to the latest,
// all in the viewer's time zone.
import { api } from '../api.js';
import { addDays, isoDate, viewerZone } from '../time.js';

/**
 * Reads the slots of the 7 days from `monday` (a local midnight). `candidateId` is for
 * a centre admin booking for a candidate. Resolves to api()'s answer; throws
 * NetworkError when there was none.
 */
export function fetchWeek(monday, candidateId) {
  const q = new URLSearchParams({ from: isoDate(monday), days: '7', tz: viewerZone() });
  if (candidateId) q.set('candidate_id', candidateId);
  return api('GET', `/api/v1/slots?${q}`);
}

/**
 * Places the slots in the grid of the week. Returns `{ days, hours, cell(day, hour) }`:
 * `days` are the 7 local midnights, `hours` the rows (0–23) and `cell` the slots
 * starting in that day and hour, by start time. Slots outside the week are left out.
 */
export function layoutWeek(monday, slots) {
  const days = Array.from({ length: 7 }, (_, i) => addDays(monday, i));
  const dayIndex = new Map(days.map((d, i) => [isoDate(d), i]));
  const cells = new Map();
  let first = 24;
  let last = -1;
  const sorted = [...slots].sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
  for (const slot of sorted) {
    const start = new Date(slot.start);
    const day = dayIndex.get(isoDate(start));
    if (day === undefined) continue;
    const hour = start.getHours();
    first = Math.min(first, hour);
    last = Math.max(last, hour);
    const key = `${day}:${hour}`;
    if (!cells.has(key)) cells.set(key, []);
    cells.get(key).push(slot);
  }
  const hours = last < 0 ? [] : Array.from({ length: last - first + 1 }, (_, i) => first + i);
  return { days, hours, cell: (day, hour) => cells.get(`${day}:${hour}`) ?? [] };
}
