// The candidate's journey on the home page: system check, personal data, identity,
// the written test, the oral interview's booking, the results; and, to prepare, the
// demo mini-test and practice.
import { api } from './api.js';
import { h } from './dom.js';
import { t, withLang } from './i18n.js';
import { oralStep, resultsStep } from './journey-oral.js';
import { link, step } from './journey-step.js';

const DOMAINS = ['vocabulary', 'grammar', 'expressions', 'reading', 'listening'];

/** The written-test step: start, resume, or finished, with the reminder before starting. */
function writtenStep(j) {
  const written = j.written;
  if (written && written.status === 'finished') return step('written', t('journey.written.title'), true, t('journey.written.finished'), null);
  const testUrl = (id) => withLang(`/static/test.html?mode=written&id=${encodeURIComponent(id)}`);
  if (written) {
    const resume = h('a', { href: testUrl(written.id), class: 'button-link', dataset: { testid: 'resume-written' } }, t('journey.written.resume'));
    return step('written', t('journey.written.title'), false, t('journey.written.running'), resume);
  }
  if (!j.profile_complete || !j.identity_done) {
    return step('written', t('journey.written.title'), false, t('journey.written.locked'), null);
  }
  const status = h('p', { class: 'error', role: 'alert' });
  const start = h('button', { type: 'button', dataset: { testid: 'start-written' } }, t('journey.written.start'));
  start.addEventListener('click', async () => {
    start.disabled = true;
    status.textContent = '';
    const res = await api('POST', '/api/v1/written').catch(() => null);
    if (res?.ok) {
      location.assign(testUrl(res.data.id));
      return;
    }
    start.disabled = false;
    const known = { profile_incomplete: 'journey.written.need_profile', identity_required: 'journey.written.need_identity' };
    status.textContent = !res ? t('journey.network') : known[res.code] ? t(known[res.code]) : `${t('journey.error')} ${res.message}`;
  });
  const reminder = h('div', { class: 'reminder', dataset: { testid: 'reminder' } },
    h('h4', {}, t('journey.reminder.title')),
    h('ul', {}, ['format', 'time', 'id', 'place', 'sound', 'watch'].map((k) => h('li', {}, t(`journey.reminder.${k}`)))),
    h('p', { class: 'warning' }, t('journey.reminder.warning')));
  return step('written', t('journey.written.title'), false, null, [reminder, h('p', {}, start), status]);
}

/** Fills `section` with the journey read from the API, and shows it. */
export async function showJourney(section) {
  const res = await api('GET', '/api/v1/me/journey').catch(() => null);
  const steps = section.querySelector('#journey-steps');
  const prepare = section.querySelector('#journey-prepare');
  section.hidden = false;
  if (!res?.ok) {
    steps.replaceChildren(h('li', { class: 'error' }, res ? res.message : t('journey.network')));
    return;
  }
  const j = res.data;
  const finished = j.written?.status === 'finished';
  const [oral, results] = await Promise.all([oralStep(finished), resultsStep(finished)]);
  steps.replaceChildren(
    step('check', t('journey.check.title'), j.system_check_done, t('journey.check.text'),
      link('/static/check.html', j.system_check_done ? 'journey.check.again' : 'journey.check.go', 'go-check')),
    step('profile', t('journey.profile.title'), j.profile_complete, t('journey.profile.text'),
      link('/static/profile.html', j.profile_complete ? 'journey.profile.edit' : 'journey.profile.go', 'go-profile')),
    step('identity', t('journey.identity.title'), j.identity_done, t('journey.identity.text'),
      j.identity_done ? null : link('/static/identity.html', 'journey.identity.go', 'go-identity')),
    writtenStep(j),
    oral,
    results);
  prepare.replaceChildren(
    h('li', { class: 'step', dataset: { testid: 'step-demo' } },
      h('h3', {}, t('journey.demo.title')), h('p', {}, t('journey.demo.text')),
      link('/static/test.html?mode=demo', 'journey.demo.go', 'go-demo')),
    h('li', { class: 'step', dataset: { testid: 'step-practice' } },
      h('h3', {}, t('journey.practice.title')), h('p', {}, t('journey.practice.text')),
      h('ul', { class: 'domains' }, DOMAINS.map((d) =>
        h('li', {}, h('a', { href: withLang(`/static/test.html?mode=practice&domain=${d}`), dataset: { testid: `practice-${d}` } }, t(`domain.${d}`)))))));
}
