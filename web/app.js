// The home page of every role: who is signed in. Each role's own pages hang off it.
import { t, translate } from './i18n.js';

translate();
const who = document.getElementById('who');
const res = await fetch('/api/v1/me', { credentials: 'same-origin' });
if (res.ok) {
  const me = await res.json();
  who.textContent = `${t('home.hello')} ${me.first_names} — ${t('home.role.' + me.role)}`;
  const logout = document.getElementById('logout');
  logout.hidden = false;
  logout.addEventListener('click', async () => {
    await fetch('/api/v1/auth/logout', { method: 'POST' });
    sessionStorage.removeItem('langcert.token');
    location.reload();
  });
} else {
  who.textContent = t('home.signed_out');
}
