// The demo mini-test: the seven items of the guide, one of each type, with the real
// timers and the 3-second pause between questions. Nothing is sent to the server.
import { api } from '../api.js';
import { h } from '../dom.js';
import { t, withLang } from '../i18n.js';
import { clipFetcher, localQuestion } from './local.js';
import { persist } from './net-notice.js';
import { homeLink, interstitial, loadingScreen, messageScreen, questionTitle } from './screen.js';

const PAUSE_MS = 3000;

function ask(stage, item, title, playClip) {
  return new Promise((resolve) => {
    let done = false;
    const finish = (how) => {
      if (done) return;
      done = true;
      screen.dispose();
      resolve(how);
    };
    const screen = localQuestion(stage, { title, item, playClip, onExpire: () => finish('timeout') });
    screen.onValidate(() => finish('answered'));
  });
}

/** Runs the demo in `stage`. */
export async function runDemo(stage, notice) {
  loadingScreen(stage);
  const { res } = await persist(() => api('GET', '/api/v1/demo'), notice, 'net.view');
  if (!res.ok) {
    messageScreen(stage, { title: t('test.error.title'), body: [res.message], actions: [homeLink()], testid: 'error', kind: 'error' });
    return;
  }
  const items = res.data.items;
  const playClip = clipFetcher();
  for (const [i, item] of items.entries()) {
    const how = await ask(stage, item, questionTitle(i + 1, items.length, item.domain), playClip);
    if (i < items.length - 1) await interstitial(stage, { timeUp: how === 'timeout' }).wait(performance.now() + PAUSE_MS);
  }
  messageScreen(stage, {
    title: t('demo.finished.title'),
    body: [t('demo.finished.body')],
    actions: [homeLink(), ' ', h('a', { href: withLang('/static/test.html?mode=demo'), class: 'button-link secondary' }, t('demo.again'))],
    testid: 'finished',
  });
}
