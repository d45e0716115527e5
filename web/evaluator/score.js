// "Noter l'oral": the five criteria of GET /api/v1/oral/criteria, each with a CEFR level
// and the descriptor of the chosen level beside it, a comment, and the save (PUT
// /api/v1/interviews/{id}/score) that answers the resulting oral level. A score saved
// before is read back first (404: not scored yet).
import { api } from '../api.js';
import { CRITERIA, LEVELS } from '../cefr.js';
import { focusStatic, h } from '../dom.js';
import { lang, t, tf } from '../i18n.js';
import { shortId } from './when.js';

let criteriaAsked = null;

/** The criteria in the page's language, asked once per page. */
function loadCriteria() {
  criteriaAsked ??= api('GET', `/api/v1/oral/criteria?lang=${lang}`).then((res) => {
    if (!res.ok) throw new Error(res.message);
    return res.data.criteria;
  });
  criteriaAsked.catch(() => { criteriaAsked = null; });
  return criteriaAsked;
}

function criterionField(c) {
  const descriptor = h('p', { id: `descriptor-${c.id}`, class: 'descriptor', 'aria-live': 'polite', dataset: { testid: `descriptor-${c.id}` } });
  const select = h('select', {
    id: `level-${c.id}`,
    name: c.id,
    'aria-describedby': `descriptor-${c.id}`,
    dataset: { testid: `level-${c.id}` },
  }, h('option', { value: '' }, t('score.choose')), LEVELS.map((l) => h('option', { value: l }, l)));
  const show = () => {
    select.removeAttribute('aria-invalid');
    descriptor.textContent = select.value ? `${select.value} — ${c.levels?.[select.value] ?? ''}` : '';
  };
  select.addEventListener('change', show);
  return { el: h('div', { class: 'criterion' }, h('label', { for: select.id }, c.name), select, descriptor), select, show };
}

/** Builds the form of `interview` into `panel` and moves the focus to its heading. */
/** The interview's recordings, to replay while scoring (one player per track). */
function recordingsBox(interview) {
  const box = h('div', { class: 'recording', dataset: { testid: 'recordings' } }, t('score.recording'));
  api('GET', `/api/v1/interviews/${encodeURIComponent(interview.id)}/recordings`).then((res) => {
    if (!res.ok || !Array.isArray(res.data) || res.data.length === 0) {
      box.replaceChildren(t('score.recording.none'));
      return;
    }
    box.replaceChildren(h('p', {}, t('score.recording.title')), ...res.data.map((r) =>
      h(r.kind === 'video' ? 'video' : 'audio', { src: r.url, controls: true, preload: 'metadata', dataset: { testid: `recording-${r.kind}` } })));
  }).catch(() => box.replaceChildren(t('score.recording.none')));
  return box;
}

export async function openScoreForm(panel, interview) {
  const heading = h('h4', { tabindex: '-1' }, tf('score.title', { id: shortId(interview.candidate_id) }));
  // The heading stays put (it has the focus); what follows it is replaced.
  const content = h('div', {}, h('p', { class: 'muted', role: 'status' }, t('evaluator.loading')));
  panel.replaceChildren(heading, content);
  focusStatic(heading);
  const path = `/api/v1/interviews/${encodeURIComponent(interview.id)}/score`;
  let criteria;
  let saved;
  try {
    [criteria, saved] = await Promise.all([loadCriteria(), api('GET', path)]);
  } catch (e) {
    content.replaceChildren(h('p', { class: 'error', role: 'alert' }, `${t('score.load_failed')} ${e.message}`));
    return;
  }
  if (!panel.contains(heading)) return; // closed meanwhile
  const ordered = CRITERIA.map((id) => criteria.find((c) => c.id === id)).filter(Boolean)
    .concat(criteria.filter((c) => !CRITERIA.includes(c.id)));
  const fields = ordered.map(criterionField);
  const comment = h('textarea', { id: `comment-${interview.id}`, rows: '4', dataset: { testid: 'score-comment' } });
  const status = h('p', { class: 'form-status', role: 'status', dataset: { testid: 'score-status' } });
  const result = h('p', { class: 'oral-level', 'aria-live': 'polite', dataset: { testid: 'oral-level' } });
  const save = h('button', { type: 'submit', dataset: { testid: 'save-score' } }, t('score.save'));
  const form = h('form', { class: 'form score-form', novalidate: true, dataset: { testid: 'score-form' } },
    recordingsBox(interview),
    h('fieldset', {}, h('legend', {}, t('score.criteria')), fields.map((f) => f.el)),
    h('div', { class: 'field' }, h('label', { for: comment.id }, t('score.comment')), comment),
    h('p', {}, save), status, result);

  if (saved.ok && saved.data) {
    for (const f of fields) {
      f.select.value = saved.data.levels?.[f.select.name] ?? '';
      f.show();
    }
    comment.value = saved.data.comment ?? '';
    if (saved.data.oral_level) result.textContent = tf('score.level', { level: saved.data.oral_level });
  } else if (saved.status !== 404) {
    status.className = 'form-status error';
    status.textContent = `${t('score.load_failed')} ${saved.message}`;
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const missing = fields.find((f) => !f.select.value);
    if (missing) {
      missing.select.setAttribute('aria-invalid', 'true');
      status.className = 'form-status error';
      status.textContent = t('score.missing');
      missing.select.focus();
      return;
    }
    const body = { levels: Object.fromEntries(fields.map((f) => [f.select.name, f.select.value])), comment: comment.value.trim() };
    // aria-disabled rather than disabled: the button keeps the focus.
    if (save.getAttribute('aria-disabled') === 'true') return;
    save.setAttribute('aria-disabled', 'true');
    status.className = 'form-status';
    status.textContent = t('score.saving');
    const res = await api('PUT', path, body).catch(() => null);
    save.removeAttribute('aria-disabled');
    if (res?.ok) {
      status.className = 'form-status ok';
      status.textContent = t('score.saved');
      result.textContent = tf('score.level', { level: res.data.oral_level });
      return;
    }
    status.className = 'form-status error';
    status.textContent = !res ? t('journey.network') : `${t('score.save_failed')} ${res.message}`;
  });
  content.replaceChildren(form);
}
