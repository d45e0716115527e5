// The interview link of the mails: shows the appointment. The waiting room and the
// video call come with the interview stage; until then this page says when to come.
import { api } from './api.js';
import { t, tf, translate } from './i18n.js';

translate();
const when = document.getElementById('when');
const id = location.pathname.split('/').pop();
const res = await api('GET', `/api/v1/interviews/${encodeURIComponent(id)}`);
if (res.ok) {
  const start = new Date(res.data.scheduled_at);
  const fmt = new Intl.DateTimeFormat(document.documentElement.lang, { dateStyle: 'full', timeStyle: 'short' });
  when.textContent = tf('interview.when', { when: fmt.format(start) });
} else if (res.status === 401) {
  when.textContent = t('interview.signin');
} else {
  when.textContent = t('interview.unknown');
}
