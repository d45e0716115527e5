// The candidate's results (GET /api/v1/results/mine): nothing before the written test,
// its proctoring review and the oral are all done (never a partial result); then the
// levels per written domain and oral criterion, the overall level against the target,
// the attestation (PDF) and, when the target is reached, the certificate to share.
import { api } from './api.js';
import { CRITERIA } from './cefr.js';
import { h } from './dom.js';
import { t, tf, translate } from './i18n.js';
import { fmtInstant } from './time.js';

translate();
const box = document.getElementById('results');
// A criterion's level, whether the API gives it as "B2" or as { level: "B2" }.
const levelOf = (v) => (v && typeof v === 'object' ? v.level : v);

function pending() {
  return h('section', { class: 'notice', dataset: { testid: 'results-pending' } },
    h('p', {}, t('results.pending')), h('p', {}, t('results.when')));
}

function levelsTable(caption, head, rows) {
  return h('table', { class: 'levels' },
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, head), h('th', { scope: 'col' }, t('results.level')))),
    h('tbody', {}, rows.map(([name, level, testid]) =>
      h('tr', {}, h('th', { scope: 'row' }, name), h('td', { class: 'level', dataset: { testid } }, level ?? '—')))));
}

function summary(r) {
  const valid = r.status === 'valid';
  return h('section', { class: 'result-summary', dataset: { testid: 'result-summary', reached: String(Boolean(r.reached)) } },
    h('p', { class: 'overall' }, t('results.overall'), ' ', h('strong', { dataset: { testid: 'result-overall' } }, r.overall)),
    h('p', { dataset: { testid: 'result-target' } }, tf('results.target', { level: r.target }), ' ',
      h('strong', { class: r.reached ? 'ok' : 'error' }, t(r.reached ? 'results.reached' : 'results.not_reached'))),
    h('p', { class: valid ? '' : 'error', dataset: { testid: 'result-status' } }, t(valid ? 'results.status.valid' : 'results.status.invalidated')),
    r.issued_at ? h('p', { class: 'muted' }, tf('results.issued', { date: fmtInstant(r.issued_at) })) : null);
}

function documents(r) {
  const certificate = r.certificate_id
    ? h('p', {}, h('a', { href: `/verify/${encodeURIComponent(r.certificate_id)}`, class: 'button-link', dataset: { testid: 'certificate-link' } }, t('results.certificate')))
    : h('p', { class: 'muted' }, t(r.status === 'valid' && !r.reached ? 'results.no_certificate' : 'results.no_certificate_invalid'));
  return h('section', { class: 'documents' },
    h('h2', {}, t('results.documents')),
    h('p', {}, h('a', { href: '/api/v1/results/mine/attestation.pdf', download: 'attestation.pdf', class: 'button-link secondary', dataset: { testid: 'attestation-link' } }, t('results.attestation'))),
    r.certificate_id ? h('p', {}, t('results.certificate_text')) : null,
    certificate);
}

function show(r) {
  const written = Array.isArray(r.written) ? r.written : [];
  const criteria = r.oral?.criteria ?? {};
  const known = CRITERIA.filter((c) => c in criteria);
  box.replaceChildren(h('div', {},
    r.candidate ? h('p', { class: 'holder' }, `${r.candidate.first_names} ${r.candidate.last_name}`) : null,
    summary(r),
    h('h2', {}, t('results.detail')),
    levelsTable(t('results.written'), t('results.domain'),
      written.map((w) => [t(`domain.${w.domain}`), w.level, `result-written-${w.domain}`])),
    levelsTable(t('results.oral'), t('results.criterion'), [
      [t('results.oral_level'), r.oral?.level, 'result-oral'],
      ...known.map((c) => [t(`criterion.${c}`), levelOf(criteria[c]), `result-oral-${c}`]),
    ]),
    documents(r)));
}

const res = await api('GET', '/api/v1/results/mine').catch(() => null);
if (res?.ok) show(res.data);
else if (res?.status === 404) box.replaceChildren(pending());
else {
  box.replaceChildren(h('p', { class: 'error', role: 'alert', dataset: { testid: 'results-error' } },
    !res ? t('journey.network') : res.status === 401 ? t('home.signed_out') : `${t('journey.error')} ${res.message}`));
}
