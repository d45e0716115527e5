// The identity step, a placeholder until the selfie and ID-document capture come with
// proctoring: it says so, and records the step (POST /api/v1/me/identity).
import { api } from './api.js';
import { h } from './dom.js';
import { t, translate, withLang } from './i18n.js';

translate();
const button = document.getElementById('confirm');
const status = document.getElementById('status');
button.addEventListener('click', async () => {
  button.disabled = true;
  const res = await api('POST', '/api/v1/me/identity').catch(() => null);
  if (res?.ok) {
    status.className = 'check-status ok';
    status.replaceChildren(t('identity.done'), ' ', h('a', { href: withLang('/app/'), dataset: { testid: 'back-home' } }, t('nav.home')));
    return;
  }
  button.disabled = false;
  status.className = 'check-status error';
  status.textContent = res ? `${t('identity.failed')} ${res.message}` : t('journey.network');
});
