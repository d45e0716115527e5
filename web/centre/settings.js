// The centre's settings (PUT /api/v1/centres/{id}/settings): whether a candidate who did
// not come to their interview may book the next one themself.
import { api } from '../api.js';
import { t } from '../i18n.js';

/** Reads the settings into `form` and saves them on submit. */
export async function setupSettings(form) {
  const box = form.querySelector('#rebook-after-no-show');
  const status = form.querySelector('#settings-status');
  const say = (text, kind = '') => {
    status.textContent = text;
    status.className = `form-status ${kind}`;
  };
  const me = await api('GET', '/api/v1/me').catch(() => null);
  const centre = me?.ok ? me.data.centre_id : null;
  const current = centre ? await api('GET', `/api/v1/centres/${encodeURIComponent(centre)}`).catch(() => null) : null;
  if (!current?.ok) {
    say(t('journey.network'), 'error');
    form.querySelector('button').disabled = true;
    return;
  }
  box.checked = current.data.rebook_after_no_show;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const res = await api('PUT', `/api/v1/centres/${encodeURIComponent(centre)}/settings`, { rebook_after_no_show: box.checked }).catch(() => null);
    if (res?.ok) {
      box.checked = res.data.rebook_after_no_show;
      say(t('centre.settings.saved'), 'ok');
    } else {
      say(!res ? t('journey.network') : `${t('centre.settings.failed')} ${res.message}`, 'error');
    }
  });
}
