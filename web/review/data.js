// The proctoring review API, read in one place: the queue, one session with its
// identity photos, items, flagged events and audit trail, and the reviewer's decisions.
// The server's field names are mapped here only, so a renamed field is one line (both
// spellings seen so far are read: `start_ms` or `start_offset_ms`, `counts` or `events`…).
import { api } from '../api.js';

const base = (id) => `/api/v1/reviews/${encodeURIComponent(id)}`;
const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v) => (v === null || v === undefined ? '' : String(v));
const list = (v) => (Array.isArray(v) ? v : []);

/** `{ info, low, medium, high }`, zero where the server says nothing. */
function counts(c) {
  const o = c ?? {};
  return { info: num(o.info) ?? 0, low: num(o.low) ?? 0, medium: num(o.medium) ?? 0, high: num(o.high) ?? 0 };
}

/** One line of the queue. */
function queueRow(r) {
  return {
    sessionId: str(r.session_id),
    candidateId: str(r.candidate_id),
    candidateName: str(r.candidate_name),
    finishedAt: r.finished_at ?? null,
    status: str(r.status || 'pending'),
    priority: str(r.priority || 'low'),
    counts: counts(r.counts ?? r.event_counts ?? (Array.isArray(r.events) ? null : r.events)),
    pendingEvents: num(r.pending_events),
  };
}

/** One frame of an event's clip; `offsetMs` counts from the session's start. */
function clipFrame(f) {
  return { offsetMs: num(f.offset_ms) ?? 0, url: str(f.url) };
}

function event(e) {
  const startMs = num(e.start_ms ?? e.start_offset_ms) ?? 0;
  return {
    id: str(e.id),
    kind: str(e.kind),
    severity: str(e.severity || 'info'),
    startMs,
    endMs: Math.max(startMs, num(e.end_ms ?? e.end_offset_ms) ?? startMs),
    peakConfidence: num(e.peak_confidence),
    status: str(e.status || 'pending'),
    comment: str(e.comment),
    thumbnails: list(e.thumbnails).map((u) => str(typeof u === 'object' && u ? u.url : u)),
    clip: list(e.clip).map(clipFrame).sort((a, b) => a.offsetMs - b.offsetMs),
  };
}

function item(i, n) {
  return {
    index: num(i.index) ?? n + 1,
    domain: str(i.domain),
    itemType: str(i.item_type),
    presentedMs: num(i.presented_ms ?? i.presented_offset_ms) ?? 0,
    answeredMs: num(i.answered_ms ?? i.answered_offset_ms),
  };
}

function auditEntry(a) {
  return {
    at: a.at ?? null,
    reviewer: str(a.reviewer ?? a.reviewer_name),
    reviewerId: str(a.reviewer_id),
    action: str(a.action),
    eventId: a.event_id === null || a.event_id === undefined ? null : str(a.event_id),
    comment: str(a.comment),
  };
}

/** The session as the page uses it; `durationMs` is never 0 (the timeline divides by it). */
export function parseSession(d) {
  const items = list(d.items).map(item).sort((a, b) => a.presentedMs - b.presentedMs);
  const events = list(d.events).map(event).sort((a, b) => a.startMs - b.startMs);
  const id = d.identity ?? {};
  const span = Date.parse(d.finished_at ?? '') - Date.parse(d.started_at ?? '');
  const lastMs = Math.max(0, ...events.map((e) => e.endMs), ...items.map((i) => i.answeredMs ?? i.presentedMs));
  return {
    sessionId: str(d.session_id),
    candidateName: str(d.candidate_name),
    startedAt: d.started_at ?? null,
    finishedAt: d.finished_at ?? null,
    durationMs: Math.max(1000, num(d.duration_ms) ?? (Number.isFinite(span) ? span : 0), lastMs),
    status: str(d.status || 'pending'),
    priority: str(d.priority || 'low'),
    decisionComment: str(d.decision?.comment ?? d.comment),
    mediaPurged: d.media_purged === true,
    identity: {
      similarity: num(id.similarity),
      threshold: num(id.threshold),
      selfieUrl: str(id.selfie_url),
      documentUrl: str(id.document_url),
    },
    items,
    events,
    audit: list(d.audit).map(auditEntry),
  };
}

/** The queue: `{ ok, rows }` or the api() result of the failure. */
export async function loadQueue() {
  const res = await api('GET', '/api/v1/reviews');
  if (!res.ok) return res;
  const rows = Array.isArray(res.data) ? res.data : res.data?.reviews ?? [];
  return { ok: true, rows: rows.map(queueRow) };
}

/** One session: `{ ok, session }` or the api() result of the failure. */
export async function loadSession(id) {
  const res = await api('GET', base(id));
  return res.ok ? { ok: true, session: parseSession(res.data ?? {}) } : res;
}

/** Confirms or dismisses one event (`decision`: `confirmed` or `dismissed`). */
export function decideEvent(id, eventId, decision, comment) {
  return api('POST', `${base(id)}/events/${encodeURIComponent(eventId)}`, { decision, comment });
}

/** Validates or invalidates the session (`decision`: `validated` or `invalidated`). */
export function decideSession(id, decision, comment) {
  return api('POST', `${base(id)}/decision`, { decision, comment });
}
