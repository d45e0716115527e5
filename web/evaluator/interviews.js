// The evaluator's interviews (GET /api/v1/interviews): today's, the upcoming ones and
// the past ones still to score, times in the viewer's zone, the candidate by a short
// id (names are not in that API). "Ouvrir la salle" opens the interview's video room;
// "Noter l'oral" opens the scoring form in place; one form is open at a time.
import { api } from '../api.js';
import { h } from '../dom.js';
import { t, tf, withLang } from '../i18n.js';
import { isoDate } from '../time.js';
import { openScoreForm } from './score.js';
import { interviewTimes, interviewWhen, shortId } from './when.js';

/** The status in words; an unknown one as the API says it. */
function statusText(status) {
  const key = `evaluator.status.${status}`;
  return t(key) === key ? status : t(key);
}

let open = null; // { button, panel } of the open form

function close() {
  if (!open) return;
  open.button.setAttribute('aria-expanded', 'false');
  open.panel.hidden = true;
  open.panel.replaceChildren();
  open = null;
}

function toggle(button, panel, interview) {
  const same = open?.panel === panel;
  close();
  if (same) return;
  open = { button, panel };
  button.setAttribute('aria-expanded', 'true');
  panel.hidden = false;
  openScoreForm(panel, interview);
}

function item(i) {
  const panelId = `score-panel-${i.id}`;
  const cancelled = i.status === 'cancelled';
  // Scored only once it ended (held in the room, or closed as held without recording).
  const scoreable = i.scoreable ?? i.status === 'ended';
  const over = ['ended', 'cancelled', 'no_show'].includes(i.status);
  const panel = h('div', { id: panelId, class: 'score-panel', hidden: true });
  const button = !scoreable ? null : h('button', {
    type: 'button',
    class: 'secondary',
    'aria-expanded': 'false',
    'aria-controls': panelId,
    dataset: { testid: `score-${i.id}` },
  }, t('evaluator.score'));
  button?.addEventListener('click', () => toggle(button, panel, i));
  // The video room of the interview (waiting room, call, steps and prompts).
  const roomLink = over ? null : h('a', {
    href: withLang(`/static/evaluator-interview.html?id=${encodeURIComponent(i.id)}`),
    class: 'button-link',
    dataset: { testid: `open-room-${i.id}` },
  }, t('evaluator.open_room'));
  return h('li', { class: `interview${cancelled ? ' cancelled' : ''}`, dataset: { testid: `interview-${i.id}` } },
    h('p', { class: 'when' }, interviewWhen(i)),
    h('p', {},
      t('evaluator.candidate'), ' ', h('code', { title: i.candidate_id }, shortId(i.candidate_id)),
      i.target_cefr ? ` · ${tf('evaluator.target', { level: i.target_cefr })}` : '',
      i.status ? ` · ${statusText(i.status)}` : ''),
    i.closure_reason ? h('p', { class: 'muted', dataset: { testid: `closure-${i.id}` } }, tf('evaluator.closure', { reason: i.closure_reason })) : null,
    cancelled ? null : h('p', { class: 'interview-actions' }, roomLink, ' ', button,
      scoreable || over ? null : h('span', { class: 'muted', dataset: { testid: `score-later-${i.id}` } }, t('evaluator.score_after'))),
    panel);
}

function group(title, testid, list) {
  if (!list.length) return null;
  return h('section', { class: 'interview-group', dataset: { testid } },
    h('h3', {}, title),
    h('ul', { class: 'interviews' }, list.map(item)));
}

/** Fills `box` with the interviews, grouped by day. */
export async function showInterviews(box) {
  const res = await api('GET', '/api/v1/interviews').catch(() => null);
  if (!res?.ok) {
    box.replaceChildren(h('p', { class: 'error', role: 'alert' },
      !res ? t('journey.network') : res.status === 401 ? t('home.signed_out') : `${t('journey.error')} ${res.message}`));
    return;
  }
  const all = (Array.isArray(res.data) ? res.data : res.data?.interviews ?? [])
    .map((i) => ({ i, start: interviewTimes(i).start }))
    .sort((a, b) => a.start - b.start);
  const today = isoDate(new Date());
  const on = (test) => all.filter(({ start }) => test(isoDate(start))).map(({ i }) => i);
  const groups = [
    group(t('evaluator.today'), 'interviews-today', on((d) => d === today)),
    group(t('evaluator.upcoming'), 'interviews-upcoming', on((d) => d > today)),
    group(t('evaluator.past'), 'interviews-past', on((d) => d < today).reverse()),
  ].filter(Boolean);
  box.replaceChildren(...(groups.length ? groups : [h('p', { dataset: { testid: 'no-interviews' } }, t('evaluator.none'))]));
}
