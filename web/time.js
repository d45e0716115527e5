// Dates and times as the pages show them: in the viewer's own time zone (the browser's),
// "19/03/2022" and "10:00". The API speaks RFC 3339 instants in UTC.
import { lang } from './i18n.js';

const pad = (n) => String(n).padStart(2, '0');
const locale = lang === 'en' ? 'en-GB' : 'fr-FR';

/** The viewer's IANA time zone, as the calendar queries take it (`tz`). */
export function viewerZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** "2022-03-19": the local calendar date of a Date, as the API's `from` takes it. */
export function isoDate(d) {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** "19/03/2022". */
export function fmtDate(d) {
  return `${pad(d.getDate())}/${pad(d.getMonth() + 1)}/${d.getFullYear()}`;
}

/** "10:00". */
export function fmtTime(d) {
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** "Samedi": the weekday's name in the page's language, with a capital. */
export function weekdayName(d) {
  const name = new Intl.DateTimeFormat(locale, { weekday: 'long' }).format(d);
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/** Local midnight of the day `n` days after `d` (safe across daylight-saving changes). */
export function addDays(d, n) {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate() + n);
}

/** Local midnight of the Monday of `d`'s week. */
export function mondayOf(d) {
  const back = (d.getDay() + 6) % 7;
  return addDays(d, -back);
}

/** "19/03/2022 10:00 - 19/03/2022 10:30", as the guide writes a booked slot. */
export function fmtRange(start, end) {
  return `${fmtDate(start)} ${fmtTime(start)} - ${fmtDate(end)} ${fmtTime(end)}`;
}

/** "19/03/2022 10:00": an instant of the API (string), or "—" when there is none. */
export function fmtInstant(s) {
  if (!s) return '—';
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? String(s) : `${fmtDate(d)} ${fmtTime(d)}`;
}
