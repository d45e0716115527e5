// The home page of every role: who is signed in. Each role's own pages hang off it
// (links.js); a candidate sees the steps of the journey (journey.js).
import { api } from './api.js';
import { t, translate } from './i18n.js';
import { showJourney } from './journey.js';
import { showLinks } from './links.js';

translate();
const who = document.getElementById('who');
const res = await api('GET', '/api/v1/me').catch(() => ({ ok: false }));
if (res.ok) {
  const me = res.data;
  who.textContent = `${t('home.hello')} ${me.first_names} — ${t('home.role.' + me.role)}`;
  const logout = document.getElementById('logout');
  logout.hidden = false;
  logout.addEventListener('click', async () => {
    await fetch('/api/v1/auth/logout', { method: 'POST' });
    sessionStorage.removeItem('langcert.token');
    location.reload();
  });
  showLinks(document.getElementById('links'), me.role);
  if (me.role === 'candidate') await showJourney(document.getElementById('journey'));
} else {
  who.textContent = t('home.signed_out');
}
