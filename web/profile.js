// The personal-data form the CPF transmission needs: read (GET), saved (PUT); the
// server's refusal (422) is shown next to the form and marks the field it names.
import { api } from './api.js';
import { h } from './dom.js';
import { t, tf, translate, withLang } from './i18n.js';

translate();
const form = document.getElementById('profile');
const status = document.getElementById('form-status');
const TEXT_FIELDS = ['birth_name', 'usage_name', 'first_names', 'birth_date', 'birth_commune', 'birth_country'];
const REQUIRED = ['birth_name', 'first_names', 'birth_date', 'sex', 'birth_commune', 'birth_country'];

function say(kind, ...content) {
  status.className = `form-status ${kind}`;
  status.replaceChildren(...content);
}

function clearMarks() {
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
}

/** Marks a field as wrong and moves the focus to it. */
function mark(name) {
  const target = name === 'sex' ? form.querySelector('input[name="sex"]') : form.elements[name];
  const inputs = name === 'sex' ? form.querySelectorAll('input[name="sex"]') : [target];
  for (const i of inputs) i.setAttribute('aria-invalid', 'true');
  target?.focus();
}

function read() {
  const body = {};
  for (const name of TEXT_FIELDS) body[name] = form.elements[name].value.trim();
  body.usage_name = body.usage_name || null;
  body.sex = form.querySelector('input[name="sex"]:checked')?.value ?? null;
  return body;
}

function fill(profile) {
  for (const name of TEXT_FIELDS) form.elements[name].value = profile[name] ?? '';
  for (const radio of form.querySelectorAll('input[name="sex"]')) radio.checked = radio.value === profile.sex;
}

const res = await api('GET', '/api/v1/me/profile').catch(() => null);
if (res?.ok && res.data) fill(res.data);
else if (res && res.status !== 404) say('error', `${t('profile.load_failed')} ${res.message}`);

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearMarks();
  const body = read();
  const missing = REQUIRED.find((name) => !body[name]);
  if (missing) {
    say('error', tf('profile.missing', { field: t(`profile.${missing}`) }));
    mark(missing);
    return;
  }
  const button = form.querySelector('button[type="submit"]');
  button.disabled = true;
  const saved = await api('PUT', '/api/v1/me/profile', body).catch(() => null);
  button.disabled = false;
  if (saved?.ok) {
    say('ok', t('profile.saved'), ' ', h('a', { href: withLang('/app/'), dataset: { testid: 'back-home' } }, t('nav.home')));
    return;
  }
  if (!saved) {
    say('error', t('journey.network'));
    return;
  }
  say('error', saved.status === 422 ? `${t('profile.invalid')} ${saved.message}` : `${t('profile.save_failed')} ${saved.message}`);
  // The server names the field in its message: point at it.
  const named = [...REQUIRED, 'usage_name'].find((name) => new RegExp(`\\b${name}\\b`).test(saved.message));
  if (named) mark(named);
});
