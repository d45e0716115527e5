// One monitored written test, for the reviewer (?session=<id>): the identity photos
// side by side, the timeline of questions and flagged events, the selected event's
// evidence and decision, the decision on the whole session, and the audit trail.
// Flags are evidence for the reviewer's judgement, never a verdict.
import { api, NetworkError } from './api.js';
import { focusStatic, h } from './dom.js';
import { t, tf, translate } from './i18n.js';
import { fmtDuration } from './call/clock.js';
import { fmtInstant } from './time.js';
import { decideSession, loadSession } from './review/data.js';
import { MAX_COMMENT, showEvent } from './review/event-detail.js';
import {
  actionText, at, decimal, kindText, levelBadge, priorityText, severityText, shape, statusBadge,
} from './review/labels.js';
import { renderTimeline } from './review/timeline.js';

translate();
const $ = (id) => document.getElementById(id);
const sessionId = new URLSearchParams(location.search).get('session') ?? '';

let session = null;
let selectedId = null; // the event shown in detail
let myId = null; // the signed-in reviewer, "you" in the audit trail
let timeline = null;
let disposeEvent = () => {};

/** The words for a failed request (null: no answer at all). */
function failure(res) {
  if (!res) return t('journey.network');
  if (res.status === 401) return t('home.signed_out');
  if (res.status === 403) return t('review.forbidden');
  if (res.status === 404) return t('review.session.unknown');
  return `${t('journey.error')} ${res.message}`;
}

/** An api() call that resolves to null instead of throwing when there was no answer. */
async function quiet(promise) {
  try {
    return await promise;
  } catch (e) {
    if (e instanceof NetworkError) return null;
    throw e;
  }
}

// ---- Summary and identity ----

function fact(term, ...value) {
  return [h('dt', {}, term), h('dd', {}, ...value)];
}

function showSummary() {
  const s = session;
  const name = s.candidateName || s.sessionId.slice(0, 8);
  $('title').textContent = tf('review.session.heading', { name });
  document.title = `${$('title').textContent} — ${t('app.title')}`;
  $('summary').replaceChildren(...[
    fact(t('review.session.candidate'), name),
    fact(t('review.session.started'), fmtInstant(s.startedAt)),
    fact(t('review.session.finished'), fmtInstant(s.finishedAt)),
    fact(t('review.session.duration'), fmtDuration(s.durationMs)),
    fact(t('review.queue.priority'), levelBadge(s.priority, priorityText(s.priority))),
    fact(t('review.session.events'), String(s.events.length))].flat());
}

function photo(url, caption, testid) {
  return h('figure', { class: 'id-photo', dataset: { testid } },
    url ? h('img', { src: url, alt: caption }) : h('p', { class: 'id-missing' }, t('review.identity.missing')),
    h('figcaption', {}, caption));
}

function showIdentity() {
  const { similarity, threshold, selfieUrl, documentUrl } = session.identity;
  $('identity').replaceChildren(
    photo(selfieUrl, t('review.identity.selfie'), 'identity-selfie'),
    photo(documentUrl, t('review.identity.document'), 'identity-document'));
  let text;
  if (similarity === null) {
    text = t('review.identity.no_score');
  } else if (threshold === null) {
    text = `${tf('review.identity.score', { score: decimal(similarity) })} ${t('review.identity.judge')}`;
  } else {
    const side = similarity >= threshold ? 'above' : 'below';
    text = `${tf('review.identity.score_threshold', { score: decimal(similarity), threshold: decimal(threshold) })} ${t(`review.identity.${side}`)}`;
    $('similarity').dataset.side = side;
  }
  $('similarity').textContent = text;
}

// ---- Timeline and items ----

function showLegend() {
  $('legend').replaceChildren(...['high', 'medium', 'low', 'info'].map((s) =>
    h('li', {}, h('span', { class: `legend-swatch sev-${s}`, 'aria-hidden': 'true' }, shape(s)), ' ', severityText(s))));
  const domains = [...new Set(session.items.map((it) => it.domain))];
  $('domains').replaceChildren(...domains.map((d) =>
    h('li', {}, h('span', { class: `legend-swatch dom-${d}`, 'aria-hidden': 'true' }, t(`review.domain_short.${d}`)), ' ', t(`domain.${d}`))));
}

function showItems() {
  const rows = session.items.map((it) => h('tr', {},
    h('td', {}, String(it.index)),
    h('td', {}, t(`domain.${it.domain}`)),
    h('td', {}, at(it.presentedMs)),
    h('td', {}, it.answeredMs === null ? t('review.items.unanswered') : at(it.answeredMs))));
  $('items').replaceChildren(h('table', { class: 'data' },
    h('thead', {}, h('tr', {}, ['n', 'domain', 'presented', 'answered'].map((k) => h('th', { scope: 'col' }, t(`review.items.${k}`))))),
    h('tbody', {}, rows)));
}

function select(id, focus = true) {
  const event = session.events.find((e) => e.id === id);
  if (!event) return;
  selectedId = id;
  timeline.select(id);
  disposeEvent();
  $('event-hint').hidden = true;
  disposeEvent = showEvent($('event-detail'), session.sessionId, event, async (decided) => {
    timeline.update(decided);
    await refresh();
  }, { readOnly: session.status !== 'pending', focus });
}

// ---- The session's decision and the audit trail ----

function showStatus() {
  $('session-status').dataset.status = session.status;
  $('session-status').replaceChildren(statusBadge(session.status));
  const decided = session.status !== 'pending';
  $('decision-form').hidden = decided;
  $('decision-comment-line').hidden = !(decided && session.decisionComment);
  $('decision-comment-text').textContent = session.decisionComment;
}

function who(a) {
  if (a.reviewer) return a.reviewer;
  if (a.reviewerId && a.reviewerId === myId) return t('review.audit.you');
  return a.reviewerId ? `${t('review.audit.someone')} ${a.reviewerId.slice(0, 8)}` : t('review.audit.someone');
}

function auditLine(a) {
  const event = a.eventId ? session.events.find((e) => e.id === a.eventId) : null;
  return h('li', { dataset: { action: a.action } },
    h('span', { class: 'audit-when' }, fmtInstant(a.at)), ' — ',
    h('span', { class: 'audit-who' }, who(a)), ' — ',
    actionText(a.action),
    event ? ` : ${kindText(event.kind)} (${at(event.startMs)})` : a.eventId ? ` (${a.eventId})` : '',
    a.comment ? h('q', { class: 'audit-comment' }, a.comment) : null);
}

function showAudit() {
  $('audit').replaceChildren(...session.audit.map(auditLine));
  $('audit-empty').hidden = session.audit.length > 0;
}

/** Reads the session again: the audit trail, the statuses (the selection stays). */
async function refresh() {
  const res = await quiet(loadSession(sessionId));
  if (!res?.ok) return;
  const fresh = res.session;
  for (const e of fresh.events) {
    const mine = session.events.find((x) => x.id === e.id);
    if (mine && mine.status !== e.status) {
      mine.status = e.status;
      timeline.update(mine);
    }
  }
  session.status = fresh.status;
  session.decisionComment = fresh.decisionComment;
  session.audit = fresh.audit;
  showStatus();
  showAudit();
}

async function decide(decision) {
  const button = $(decision === 'validated' ? 'validate' : 'invalidate');
  if (button.getAttribute('aria-disabled') === 'true') return;
  const status = $('decision-status');
  for (const id of ['validate', 'invalidate']) $(id).setAttribute('aria-disabled', 'true');
  status.className = 'check-status';
  status.textContent = t('review.sending');
  const res = await quiet(decideSession(sessionId, decision, $('decision-comment').value.trim()));
  for (const id of ['validate', 'invalidate']) $(id).removeAttribute('aria-disabled');
  if (res?.ok) {
    session.status = decision;
    status.className = 'check-status ok';
    status.textContent = t(`review.decision.done.${decision}`);
    showStatus();
    focusStatic(status);
    await refresh();
    // The open event cannot be decided any more.
    if (selectedId) select(selectedId, false);
    return;
  }
  status.className = 'check-status error';
  if (res?.code === 'events_pending') status.textContent = t('review.error.events_pending');
  else if (res?.code === 'already_decided') status.textContent = t('review.error.already_decided');
  else status.textContent = failure(res);
}
$('validate').addEventListener('click', () => decide('validated'));
$('invalidate').addEventListener('click', () => decide('invalidated'));

// ---- Loading ----

if (!sessionId) {
  $('load-status').className = 'error';
  $('load-status').textContent = t('review.session.no_id');
} else {
  const [res, me] = await Promise.all([quiet(loadSession(sessionId)), quiet(api('GET', '/api/v1/me'))]);
  myId = me?.ok ? me.data?.id ?? null : null;
  if (!res?.ok) {
    $('load-status').className = 'error';
    $('load-status').textContent = failure(res);
  } else {
    session = res.session;
    $('load-status').textContent = '';
    $('load-status').hidden = true;
    $('session').hidden = false;
    showSummary();
    $('purged').hidden = !session.mediaPurged;
    showIdentity();
    showLegend();
    timeline = renderTimeline($('timeline'), session, select);
    showItems();
    showStatus();
    showAudit();
  }
}
window.addEventListener('pagehide', () => disposeEvent());
