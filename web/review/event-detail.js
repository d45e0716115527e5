// The selected event: what was flagged, when, how sure the detector was, its three
// thumbnails and its clip, and the reviewer's decision on it (confirm or dismiss, with
// a comment).
import { NetworkError } from '../api.js';
import { focusStatic, h } from '../dom.js';
import { t, tf } from '../i18n.js';
import { clipPlayer } from './clip.js';
import { decideEvent } from './data.js';
import { kindText, levelBadge, percent, severityText, span, statusBadge } from './labels.js';

/** The longest comment the server takes. */
export const MAX_COMMENT = 2000;

function fact(term, ...value) {
  return [h('dt', {}, term), h('dd', {}, ...value)];
}

/**
 * Shows `event` of session `sessionId` in `panel`. `onDecided(event)` runs after a
 * decision was recorded (the event's status already changed); with `readOnly` (the
 * session is decided) there is nothing left to decide; `focus` moves the focus to its
 * heading. Returns `dispose()`.
 */
export function showEvent(panel, sessionId, event, onDecided, { readOnly = false, focus = true } = {}) {
  const heading = h('h2', { id: 'event-title', tabindex: '-1' }, kindText(event.kind));
  const status = h('span', { dataset: { testid: 'event-status', status: event.status } });
  const setStatus = () => {
    status.dataset.status = event.status;
    status.replaceChildren(statusBadge(event.status));
  };
  setStatus();
  const thumbs = event.thumbnails.length
    ? h('ul', { class: 'thumbs', dataset: { testid: 'thumbnails' } }, event.thumbnails.map((url, i) =>
      h('li', {}, h('img', { src: url, alt: tf('review.event.thumbnail', { n: i + 1, total: event.thumbnails.length }), loading: 'lazy' }))))
    : h('p', { class: 'muted' }, t('review.event.no_thumbnails'));
  const clip = clipPlayer(event.clip);

  const commentId = `event-comment-${event.id}`;
  const comment = h('textarea', { id: commentId, rows: '3', maxlength: String(MAX_COMMENT), dataset: { testid: 'event-comment' } });
  comment.value = event.comment;
  const result = h('p', { class: 'check-status', role: 'status', dataset: { testid: 'event-decision-status' } });
  const confirm = h('button', { type: 'button', dataset: { testid: 'confirm-event' } }, t('review.event.confirm'));
  const dismiss = h('button', { type: 'button', class: 'secondary', dataset: { testid: 'dismiss-event' } }, t('review.event.dismiss'));

  async function decide(decision, button) {
    if (button.getAttribute('aria-disabled') === 'true') return;
    for (const b of [confirm, dismiss]) b.setAttribute('aria-disabled', 'true');
    result.className = 'check-status';
    result.textContent = t('review.sending');
    let res = null;
    try {
      res = await decideEvent(sessionId, event.id, decision, comment.value.trim());
    } catch (e) {
      if (!(e instanceof NetworkError)) throw e;
    }
    for (const b of [confirm, dismiss]) b.removeAttribute('aria-disabled');
    if (res?.ok) {
      event.status = decision;
      event.comment = comment.value.trim();
      setStatus();
      result.className = 'check-status ok';
      result.textContent = t(`review.event.done.${decision}`);
      onDecided(event);
      return;
    }
    result.className = 'check-status error';
    const known = { already_decided: 'review.error.already_decided', comment_required: 'review.error.comment_required', invalid_comment: 'review.error.invalid_comment' };
    result.textContent = !res ? t('journey.network')
      : res.status === 401 ? t('home.signed_out')
        : known[res.code] ? t(known[res.code])
          : `${t('journey.error')} ${res.message}`;
    if (res?.code === 'comment_required') comment.focus();
  }
  confirm.addEventListener('click', () => decide('confirmed', confirm));
  dismiss.addEventListener('click', () => decide('dismissed', dismiss));

  panel.replaceChildren(
    heading,
    h('dl', { class: 'facts' },
      fact(t('review.event.severity'), levelBadge(event.severity, severityText(event.severity))),
      fact(t('review.event.when'), span(event.startMs, event.endMs)),
      fact(t('review.event.confidence'), percent(event.peakConfidence)),
      fact(t('review.event.status'), status)),
    h('h3', {}, t('review.event.thumbnails')),
    thumbs,
    h('h3', {}, t('review.clip.title')),
    clip.el,
    readOnly
      ? (event.comment ? h('p', {}, h('strong', {}, t('review.event.comment')), ' ', h('q', {}, event.comment)) : null)
      : h('div', { class: 'event-decision' },
        h('h3', {}, t('review.event.decide')),
        h('p', { class: 'hint' }, t('review.event.decide_hint')),
        h('label', { for: commentId }, t('review.event.comment_label')),
        comment,
        h('p', { class: 'button-row' }, confirm, dismiss),
        result));
  panel.hidden = false;
  if (focus) focusStatic(heading);
  return () => clip.dispose();
}
