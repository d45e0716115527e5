// The reviewer's queue: the finished written tests of their centre, the most urgent
// first (as the server sorts them), with how many events of each severity were
// flagged, and a link to review each one.
import { NetworkError } from './api.js';
import { h, srOnly } from './dom.js';
import { t, tf, translate, withLang } from './i18n.js';
import { fmtInstant } from './time.js';
import { loadQueue } from './review/data.js';
import { levelBadge, priorityText, severityText, shape, statusBadge } from './review/labels.js';

const LEVELS = ['high', 'medium', 'low', 'info'];

translate();
const box = document.getElementById('queue');

function row(r) {
  const who = r.candidateName || r.candidateId.slice(0, 8);
  return h('tr', { dataset: { testid: 'review-row', sessionId: r.sessionId, status: r.status, priority: r.priority } },
    h('td', {}, levelBadge(r.priority, priorityText(r.priority))),
    h('td', {}, r.candidateName ? who : h('code', { title: r.candidateId }, who)),
    h('td', { class: 'num' }, fmtInstant(r.finishedAt)),
    LEVELS.map((l) => h('td', { class: `num count${r.counts[l] ? '' : ' zero'}` }, String(r.counts[l]))),
    h('td', {}, statusBadge(r.status)),
    h('td', {}, h('a', {
      href: withLang(`/static/review-session.html?session=${encodeURIComponent(r.sessionId)}`),
      dataset: { testid: 'open-review' },
    }, t(r.status === 'pending' ? 'review.queue.open' : 'review.queue.see'), srOnly(` ${tf('review.queue.of', { who })}`))));
}

function table(rows) {
  return h('div', { class: 'table-scroll' }, h('table', { class: 'data queue' },
    h('caption', { class: 'sr-only' }, t('review.queue.title')),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, t('review.queue.priority')),
      h('th', { scope: 'col' }, t('review.queue.candidate')),
      h('th', { scope: 'col' }, t('review.queue.finished')),
      LEVELS.map((l) => h('th', { scope: 'col', class: 'num' },
        h('span', { class: `level level-${l}` }, h('span', { class: 'level-shape', 'aria-hidden': 'true' }, shape(l)), ' ',
          srOnly(`${t('review.queue.flags')} `), severityText(l)))),
      h('th', { scope: 'col' }, t('review.queue.status')),
      h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, t('review.queue.action'))))),
    h('tbody', {}, rows.map(row))));
}

let res = null;
try {
  res = await loadQueue();
} catch (e) {
  if (!(e instanceof NetworkError)) throw e;
}
if (!res?.ok) {
  box.replaceChildren(h('p', { class: 'error', role: 'alert' },
    !res ? t('journey.network') : res.status === 401 ? t('home.signed_out')
      : res.status === 403 ? t('review.forbidden') : `${t('journey.error')} ${res.message}`));
} else if (!res.rows.length) {
  box.replaceChildren(h('p', { dataset: { testid: 'no-reviews' } }, t('review.queue.none')));
} else {
  const pending = res.rows.filter((r) => r.status === 'pending').length;
  box.replaceChildren(
    h('p', { role: 'status' }, tf('review.queue.summary', { pending, total: res.rows.length })),
    h('p', { class: 'hint' }, t('review.queue.columns')),
    table(res.rows));
}
