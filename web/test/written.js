// The real written test: the server owns the session and its clocks; the page shows
// the view it gets, sends answers and re-reads the view. An answer the candidate
// validated is kept (in memory, and in sessionStorage across a reload) and sent again
// until the server gives a verdict.
import { api, apiBlob } from '../api.js';
import { t } from '../i18n.js';
import { serverClock } from './clock.js';
import { persist } from './net-notice.js';
import { homeLink, interstitial, loadingScreen, messageScreen, questionScreen, questionTitle } from './screen.js';

/** Longest pause the page will wait on its own, whatever a clock says. */
const MAX_PAUSE_MS = 10_000;
/** After the time is up on the page, how long to wait before asking the server. */
const EXPIRY_GRACE_MS = 300;

/**
 * Runs the test of session `id` in `stage` until it is finished (or cannot go on).
 * `onRunning()` is called once, when the server says the test is under way.
 */
export async function runWritten(stage, id, notice, { onRunning = () => {} } = {}) {
  const base = `/api/v1/written/${encodeURIComponent(id)}`;
  const pendingKey = `langcert.pending.${id}`;
  let clock = null;

  const pending = {
    load: () => JSON.parse(sessionStorage.getItem(pendingKey) || 'null'),
    save: (answer) => sessionStorage.setItem(pendingKey, JSON.stringify(answer)),
    clear: () => sessionStorage.removeItem(pendingKey),
  };

  async function fetchView() {
    let sent = 0;
    const { res } = await persist(() => {
      sent = performance.now();
      return api('GET', base);
    }, notice, 'net.view');
    if (!res.ok) return fatal(res);
    clock = serverClock(res.data.server_now_ms, sent, performance.now());
    return res.data;
  }

  function fatal(res) {
    const signedOut = res.status === 401;
    messageScreen(stage, {
      title: signedOut ? t('test.signed_out.title') : t('test.error.title'),
      body: [signedOut ? t('test.signed_out.body') : `${t('test.error.body')} ${res.message}`],
      actions: [homeLink()],
      testid: 'error',
      kind: 'error',
    });
    return null;
  }

  const pauseEnd = (serverMs) => {
    const now = performance.now();
    const at = serverMs == null || !clock ? now + 3000 : clock.at(serverMs);
    return Math.min(Math.max(at, now), now + MAX_PAUSE_MS);
  };

  const playClip = async (item) => {
    const res = await apiBlob('POST', `${base}/plays/${encodeURIComponent(item.id)}`);
    if (res.ok) return { blob: res.blob };
    if (res.code === 'play_limit_reached') return { limit: true };
    throw new Error(res.message);
  };

  async function sendAnswer(itemId, response) {
    const { res } = await persist(
      () => api('POST', `${base}/answers`, { item_id: itemId, response }), notice, 'net.answer');
    if (res.ok) return { kind: 'recorded', pauseUntil: res.data?.pause_until_ms ?? null };
    if (res.code === 'too_late') return { kind: 'late' };
    // Also what a resent answer meets when its first sending was stored after all.
    if (res.code === 'not_current_item') return { kind: 'reload' };
    if (res.code === 'finished') return { kind: 'finished' };
    if (res.status === 422) return { kind: 'invalid', message: res.message };
    return { kind: 'fatal', res };
  }

  /** Shows the view's item and resolves to how it ended. */
  function ask(view, resend, lateBefore) {
    return new Promise((resolve) => {
      const item = view.item;
      let submitting = false;
      let expired = false;
      let done = false;
      const finish = (outcome) => {
        if (done) return;
        done = true;
        screen.dispose();
        resolve(outcome);
      };
      const screen = questionScreen(stage, {
        title: questionTitle(view.position, view.total, view.domain),
        item,
        ctx: { playClip },
        notice: lateBefore ? t('test.late.previous') : null,
        timer: {
          limitMs: view.time_limit_ms,
          deadlineMs: view.deadline_ms,
          clock,
          onExpire: () => {
            expired = true;
            if (!submitting) {
              screen.lock();
              finish({ kind: 'timeout', itemId: item.id });
            }
          },
        },
      });
      const submit = async (response) => {
        submitting = true;
        screen.lock();
        screen.status(t('test.sending'));
        pending.save({ item_id: item.id, response });
        const outcome = await sendAnswer(item.id, response);
        pending.clear();
        if (outcome.kind === 'invalid') {
          submitting = false;
          if (expired) return finish({ kind: 'timeout', itemId: item.id });
          screen.unlock();
          screen.status(`${t('test.invalid')} ${outcome.message}`, 'error');
          return;
        }
        finish(outcome);
      };
      screen.onValidate(submit);
      if (resend) submit(resend.response);
    });
  }

  loadingScreen(stage);
  let view = await fetchView();
  if (view && view.status !== 'finished') onRunning();
  let pause = null; // the interstitial on screen, if any
  let late = false; // the last answer came too late and no interstitial said so yet
  while (view) {
    if (view.status === 'finished') {
      pending.clear();
      messageScreen(stage, {
        title: t('test.finished.title'),
        body: [t('test.finished.body'), t('test.finished.results')],
        actions: [homeLink()],
        testid: 'finished',
      });
      return;
    }
    if (view.status === 'pause') {
      pause ??= interstitial(stage, { late });
      late = false;
      await pause.wait(pauseEnd(view.pause_until_ms));
      view = await fetchView();
      continue;
    }
    let resend = pending.load();
    if (resend && resend.item_id !== view.item.id) {
      pending.clear();
      resend = null;
    }
    const outcome = await ask(view, resend, late);
    pause = null;
    late = false;
    switch (outcome.kind) {
      case 'recorded':
        pause = interstitial(stage);
        await pause.wait(pauseEnd(outcome.pauseUntil));
        break;
      case 'late':
        late = true;
        break;
      case 'timeout':
        pause = interstitial(stage, { timeUp: true });
        await pause.wait(performance.now() + EXPIRY_GRACE_MS);
        break;
      case 'fatal':
        fatal(outcome.res);
        return;
      default: // reload, finished: the view says what comes next
        break;
    }
    view = await fetchView();
    // The page's clock ran ahead of the server's: wait for the server's deadline.
    while (outcome.kind === 'timeout' && view?.status === 'item' && view.item.id === outcome.itemId) {
      const left = Math.min(Math.max(0, view.deadline_ms - view.server_now_ms), MAX_PAUSE_MS);
      await pause.wait(performance.now() + left + EXPIRY_GRACE_MS);
      view = await fetchView();
    }
  }
}
