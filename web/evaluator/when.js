// An interview's start and end, whether the API gives `start`/`end` or
// `scheduled_at`/`duration_min`, and their text in the viewer's time zone.
import { fmtDate, fmtTime } from '../time.js';

/** `{ start, end }` as Dates. */
export function interviewTimes(i) {
  const start = new Date(i.start ?? i.scheduled_at);
  const end = i.end ? new Date(i.end) : new Date(start.getTime() + (i.duration_min ?? 30) * 60000);
  return { start, end };
}

/** "19/03/2022 10:00 - 10:30". */
export function interviewWhen(i) {
  const { start, end } = interviewTimes(i);
  return `${fmtDate(start)} ${fmtTime(start)} - ${fmtTime(end)}`;
}

/** The first 8 characters of an id, enough to tell candidates apart on one screen. */
export function shortId(id) {
  return String(id ?? '').slice(0, 8);
}
