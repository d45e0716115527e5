// Registering one candidate (POST /api/v1/candidates): the answer carries the sign-in
// link to hand over, shown with a button to copy it.
import { api } from '../api.js';
import { LEVELS } from '../cefr.js';
import { focusStatic, h } from '../dom.js';
import { t } from '../i18n.js';

const REQUIRED = ['email', 'first_names', 'last_name', 'cefr_target'];

function linkBox(url) {
  const field = h('input', { id: 'signin-link', readonly: true, value: url, class: 'link-field', dataset: { testid: 'signin-link' } });
  const copied = h('span', { role: 'status', class: 'ok' });
  const copy = h('button', { type: 'button', class: 'secondary small', dataset: { testid: 'copy-link' } }, t('centre.create.copy'));
  copy.addEventListener('click', async () => {
    field.select();
    try {
      await navigator.clipboard.writeText(url);
      copied.textContent = t('centre.create.copied');
    } catch {
      copied.textContent = t('centre.create.copy_by_hand');
    }
  });
  return [h('label', { for: field.id }, t('centre.create.link')), h('div', { class: 'link-line' }, field, copy), copied];
}

/** Wires the form; `onCreated()` refreshes the table. */
export function setupCreate(form, onCreated) {
  const status = form.querySelector('#create-status');
  const button = form.querySelector('[data-testid="create-candidate"]');
  const target = form.elements.cefr_target;
  target.replaceChildren(h('option', { value: '' }, t('centre.create.choose')), ...LEVELS.map((l) => h('option', { value: l }, l)));
  const say = (kind, ...content) => {
    status.className = `form-status ${kind}`;
    status.replaceChildren(...content.flat().filter(Boolean));
  };
  form.addEventListener('input', (event) => event.target.removeAttribute?.('aria-invalid'));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = Object.fromEntries(REQUIRED.map((k) => [k, form.elements[k].value.trim()]));
    const missing = REQUIRED.find((k) => !body[k]);
    if (missing) {
      form.elements[missing].setAttribute('aria-invalid', 'true');
      say('error', t('centre.create.missing'));
      form.elements[missing].focus();
      return;
    }
    const multiplier = Number(form.elements.time_multiplier.value || '1');
    if (!(multiplier >= 1 && multiplier <= 3)) {
      form.elements.time_multiplier.setAttribute('aria-invalid', 'true');
      say('error', t('centre.create.bad_multiplier'));
      form.elements.time_multiplier.focus();
      return;
    }
    body.time_multiplier = multiplier;
    if (button.getAttribute('aria-disabled') === 'true') return;
    button.setAttribute('aria-disabled', 'true');
    const res = await api('POST', '/api/v1/candidates', body).catch(() => null);
    button.removeAttribute('aria-disabled');
    if (res?.ok) {
      say('ok', h('p', {}, t('centre.create.done')), linkBox(res.data.sign_in_url));
      for (const k of ['email', 'first_names', 'last_name']) form.elements[k].value = '';
      focusStatic(status);
      onCreated();
      return;
    }
    const known = { 409: 'centre.create.exists' };
    say('error', !res ? t('journey.network') : known[res.status] ? t(known[res.status]) : `${t('centre.create.failed')} ${res.message}`);
    if (res) {
      const named = REQUIRED.find((k) => new RegExp(`\\b${k}\\b`).test(res.message)) ?? (res.code === 'invalid_email' || res.status === 409 ? 'email' : null);
      if (named) {
        form.elements[named].setAttribute('aria-invalid', 'true');
        form.elements[named].focus();
      }
    }
  });
}
