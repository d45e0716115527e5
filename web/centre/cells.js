// What the candidates table says of each part. The contract only says "the state of
// each part and their result"; the server gives `written` and `review` as status words,
// `interview_at` / `interview_status`, `oral_level` and `result` (the result document).
// An object ({ status, start… }) under `booking` is read too; missing means not yet.
import { t } from '../i18n.js';
import { fmtInstant } from '../time.js';

/** A state word in words (`centre.state.finished` → "Terminé"), else as given. */
export function stateText(value) {
  if (value === null || value === undefined || value === '') return t('centre.state.none');
  const key = `centre.state.${value}`;
  return t(key) === key ? String(value) : t(key);
}

const statusOf = (v) => (v && typeof v === 'object' ? v.status ?? null : v ?? null);

/** "Terminé · surveillance : validée". */
export function writtenCell(c) {
  const written = stateText(statusOf(c.written ?? c.written_status));
  const review = statusOf(c.review ?? c.review_status ?? c.proctoring);
  return review ? `${written} · ${t('centre.review')} ${stateText(review)}` : written;
}

/** The candidate's live interview as `{ start, status }`, or null. */
function interview(c) {
  if (c.interview_at) return { start: c.interview_at, status: c.interview_status ?? null };
  const b = c.booking ?? c.interview ?? null;
  if (!b || typeof b !== 'object') return null;
  return { start: b.start ?? b.scheduled_at ?? null, status: b.status ?? null };
}

/** The interview's phase as the record says it ("terminé", "absent"…), or null. */
export function oralState(c) {
  const i = interview(c);
  if (!i?.status) return null;
  return c.interview_closure === 'held_without_recording' ? 'held_without_recording' : i.status;
}

/** "terminé · 19/03/2022 10:00 · niveau B1", with the evaluator's reason of a closure. */
export function oralCell(c) {
  const i = interview(c);
  const level = c.oral && typeof c.oral === 'object' ? c.oral.level : c.oral_level;
  const state = oralState(c);
  const parts = [];
  if (state) parts.push(stateText(state));
  if (i?.start) parts.push(fmtInstant(i.start));
  if (c.interview_closure_reason) parts.push(`« ${c.interview_closure_reason} »`);
  if (level) parts.push(`${t('centre.oral_level')} ${level}`);
  return parts.length ? parts.join(' · ') : stateText(null);
}

/** "B2 — objectif atteint". */
export function resultCell(c) {
  const r = c.result ?? null;
  if (!r) return t('centre.state.no_result');
  const overall = typeof r === 'object' ? r.overall : r;
  const reached = typeof r === 'object' && 'reached' in r ? ` — ${t(r.reached ? 'centre.reached' : 'centre.not_reached')}` : '';
  const invalid = typeof r === 'object' && r.status === 'invalidated' ? ` (${stateText('invalidated')})` : '';
  return `${overall}${reached}${invalid}`;
}

/** Whether the candidate has a live booking already. */
export function hasBooking(c) {
  const i = interview(c);
  return Boolean(i?.start && !['cancelled', 'no_show'].includes(i.status));
}
