// The local mailbox: the mails the platform wrote to the signed-in person (GET
// /api/v1/mailbox, newest first), each opened in place, with its attachments (.ics).
import { api } from './api.js';
import { h } from './dom.js';
import { t, tf, translate } from './i18n.js';
import { fmtInstant } from './time.js';

translate();
const list = document.getElementById('mails');
const status = document.getElementById('mailbox-status');

function attachment(a) {
  return h('li', {}, h('a', { href: a.url, download: a.name, dataset: { testid: `attachment-${a.name}` } },
    tf('mailbox.attachment', { name: a.name })));
}

function mail(m) {
  const attachments = Array.isArray(m.attachments) ? m.attachments : [];
  return h('li', {}, h('details', { class: 'mail', dataset: { testid: `mail-${m.kind}`, id: m.id } },
    h('summary', {},
      h('span', { class: 'mail-subject', dataset: { testid: 'mail-subject' } }, m.subject),
      h('span', { class: 'mail-date' }, h('span', { class: 'sr-only' }, ' — '), fmtInstant(m.created_at))),
    h('div', { class: 'mail-body', dataset: { testid: 'mail-body' } }, m.body),
    attachments.length
      ? h('div', { class: 'mail-attachments' }, h('p', { class: 'mail-attachments-title' }, t('mailbox.attachments')), h('ul', {}, attachments.map(attachment)))
      : null));
}

const res = await api('GET', '/api/v1/mailbox').catch(() => null);
if (!res?.ok) {
  status.className = 'check-status error';
  status.textContent = !res ? t('journey.network') : res.status === 401 ? t('home.signed_out') : `${t('journey.error')} ${res.message}`;
} else {
  const mails = (Array.isArray(res.data) ? res.data : [])
    .slice()
    .sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at));
  status.textContent = !mails.length ? t('mailbox.empty') : mails.length === 1 ? t('mailbox.count_one') : tf('mailbox.count', { n: mails.length });
  list.replaceChildren(...mails.map(mail));
}
