// Practice: the exercises of one domain. After each answer the server checks it and
// the page shows the score, the expected answers and a tip, then "next". The timer
// is shown as in the test but only informs: the candidate may still answer.
import { api } from '../api.js';
import { focusStatic, h } from '../dom.js';
import { t, tf } from '../i18n.js';
import { itemLanguage } from './items/index.js';
import { clipFetcher, localQuestion } from './local.js';
import { persist } from './net-notice.js';
import { homeLink, loadingScreen, messageScreen, questionTitle } from './screen.js';

/** One expected answer as text: indexes are turned into the option or piece they name. */
function expectedText(item, value, position) {
  if (value === null || value === undefined || value === '') return '—';
  if (Array.isArray(value)) return value.map((v) => expectedText(item, v, position)).join(' / ');
  if (typeof value === 'number') {
    const named = item.gaps?.[position]?.options?.[value] ?? item.options?.[value] ?? item.shuffled?.[value];
    return named ?? String(value);
  }
  return String(value);
}

function expectedList(item, expected) {
  const values = Array.isArray(expected) ? expected : [expected];
  if (item.type === 'order_words') return h('p', {}, values.map((v, k) => expectedText(item, v, k)).join(' '));
  if (values.length === 1) return h('p', {}, expectedText(item, values[0], 0));
  return h('ol', {}, values.map((v, k) => h('li', {}, expectedText(item, v, k))));
}

function feedback(item, result, last, onNext) {
  const heading = h('h2', { tabindex: '-1' }, result.correct ? t('practice.correct') : t('practice.incorrect'));
  const next = h('button', { type: 'button', class: 'primary', dataset: { testid: 'next' }, on: { click: onNext } },
    last ? t('practice.finish') : t('practice.next'));
  const el = h('section', { class: 'feedback', dataset: { testid: 'feedback', correct: String(Boolean(result.correct)) } },
    heading,
    h('p', { dataset: { testid: 'score' } }, tf('practice.score', { score: result.score, max: result.max_score })),
    result.expected !== undefined && result.expected !== null
      ? h('div', { class: 'expected', dataset: { testid: 'expected' } },
        h('h3', {}, t('practice.expected')),
        h('div', { lang: itemLanguage(item) }, expectedList(item, result.expected)))
      : null,
    result.tip ? h('p', { class: 'tip', dataset: { testid: 'tip' } }, h('strong', {}, t('practice.tip')), ' ', result.tip) : null,
    h('p', { class: 'actions' }, next));
  return { el, heading };
}

function ask(stage, item, title, last, playClip, notice) {
  return new Promise((resolve) => {
    const screen = localQuestion(stage, {
      title, item, playClip,
      onExpire: () => screen.status(t('practice.time_up')),
    });
    screen.onValidate(async (response) => {
      screen.lock();
      screen.stopTimer();
      screen.status(t('practice.checking'));
      const { res } = await persist(
        () => api('POST', `/api/v1/practice/${encodeURIComponent(item.id)}/check`, { response }), notice, 'net.answer');
      if (!res.ok) {
        screen.unlock();
        screen.status(`${t('test.invalid')} ${res.message}`, 'error');
        return;
      }
      screen.status('');
      const shown = feedback(item, res.data, last, () => {
        screen.dispose();
        resolve(res.data);
      });
      screen.feedback.replaceChildren(shown.el);
      focusStatic(shown.heading);
    });
  });
}

/** Runs the exercises of `domain` in `stage`. */
export async function runPractice(stage, domain, notice) {
  loadingScreen(stage);
  const { res } = await persist(() => api('GET', `/api/v1/practice/${encodeURIComponent(domain)}`), notice, 'net.view');
  if (!res.ok || !res.data.items?.length) {
    const body = res.ok ? t('practice.empty') : res.status === 404 ? t('practice.unknown') : res.message;
    messageScreen(stage, { title: t('test.error.title'), body: [body], actions: [homeLink()], testid: 'error', kind: 'error' });
    return;
  }
  const items = res.data.items;
  const playClip = clipFetcher();
  let score = 0;
  let max = 0;
  for (const [i, item] of items.entries()) {
    const title = questionTitle(i + 1, items.length, item.domain, 'practice.question');
    const result = await ask(stage, item, title, i === items.length - 1, playClip, notice);
    score += result.score ?? 0;
    max += result.max_score ?? 0;
  }
  messageScreen(stage, {
    title: t('practice.finished.title'),
    body: [tf('practice.finished.body', { score, max })],
    actions: [homeLink()],
    testid: 'finished',
  });
}
