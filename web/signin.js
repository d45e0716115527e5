// The sign-in page: exchanges the single-use token of the link for a session, then
// opens the home page. The token is sent once, in a POST body, never in a log line.
import { t, translate } from './i18n.js';

translate();
const button = document.getElementById('continue');
const status = document.getElementById('status');
button.addEventListener('click', async () => {
  button.disabled = true;
  status.textContent = t('signin.working');
  const token = location.pathname.split('/').pop();
  const res = await fetch('/api/v1/auth/link', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ token }),
  });
  if (res.ok) {
    const session = await res.json();
    sessionStorage.setItem('langcert.token', session.token);
    // Go where the link was meant to lead (a page of this site only), else home.
    const next = new URLSearchParams(location.search).get('next');
    location.replace(next && /^\/[a-z]/.test(next) ? next : '/app/');
  } else {
    const body = await res.json().catch(() => ({ error: { message: res.statusText } }));
    status.textContent = t('signin.failed') + body.error.message;
    status.className = 'error';
    button.disabled = false;
  }
});
