// The test page, one page for three modes chosen by the address:
//   ?mode=written&id=<session id>  the real written test, under webcam monitoring
//   ?mode=demo                     the 7-question demo mini-test (nothing is sent)
//   ?mode=practice&domain=<domain> practice exercises of one domain
import { t, tf, translate } from '../i18n.js';
import { runDemo } from './demo.js';
import { setupHelp } from './help.js';
import { startMonitor } from './monitor.js';
import { netNotice } from './net-notice.js';
import { runPractice } from './practice.js';
import { homeLink, messageScreen } from './screen.js';
import { runWritten } from './written.js';

translate();
const params = new URLSearchParams(location.search);
const mode = params.get('mode');
const stage = document.getElementById('stage');
const notice = netNotice(document.getElementById('net-status'));
const title = document.getElementById('test-title');
setupHelp(mode);

/** The title and the runner of the mode the address asks for, or null. */
function chosenMode() {
  const id = params.get('id');
  const domain = params.get('domain');
  if (mode === 'written' && id) return { title: t('test.title.written'), run: () => runMonitored(id) };
  if (mode === 'demo') return { title: t('test.title.demo'), run: () => runDemo(stage, notice) };
  if (mode === 'practice' && domain) {
    return { title: tf('test.title.practice', { domain: t(`domain.${domain}`) }), run: () => runPractice(stage, domain, notice) };
  }
  return null;
}

/** The real test, watched by the webcam from its first question to its end. */
async function runMonitored(id) {
  let monitor = null;
  try {
    await runWritten(stage, id, notice, {
      onRunning: () => { monitor = startMonitor(document.getElementById('monitor'), id); },
    });
  } finally {
    monitor?.stop();
  }
}

const chosen = chosenMode();
if (chosen) {
  title.textContent = chosen.title;
  document.title = `${chosen.title} — ${t('app.title')}`;
  await chosen.run();
} else {
  messageScreen(stage, { title: t('test.error.title'), body: [t('test.bad_address')], actions: [homeLink()], testid: 'error', kind: 'error' });
}
