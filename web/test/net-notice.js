// Getting through network trouble: a notice under the header ("connection lost,
// trying again in 4 s", with a "try now" button) and the loop that repeats a request
// until the server gives an answer. Nothing the candidate did is dropped meanwhile.
import { NetworkError } from '../api.js';
import { h } from '../dom.js';
import { t, tf } from '../i18n.js';
import { retryDelayMs, waitOrWake } from './retry.js';

/**
 * The notice, placed in `slot` (an aria-live element). The message is said once per
 * outage; the countdown beside it is for the eyes only, so it does not chatter.
 */
export function netNotice(slot) {
  let shown = null;
  let countdown = null;
  return {
    /** Shows the notice for `ms` and resolves when it is time to try again. */
    async wait(ms, key) {
      if (!shown || shown.key !== key) {
        const count = h('span', { class: 'net-count', 'aria-hidden': 'true' });
        const now = h('button', { type: 'button', class: 'secondary', dataset: { testid: 'retry-now' } }, t('net.retry_now'));
        const el = h('div', { class: 'net-notice', dataset: { testid: 'net-notice' } }, h('span', {}, t(key)), ' ', count, ' ', now);
        shown = { key, count, now };
        slot.replaceChildren(el);
      }
      const { count, now } = shown;
      const end = performance.now() + ms;
      const show = () => {
        count.textContent = tf('net.next_try', { s: Math.max(0, Math.ceil((end - performance.now()) / 1000)) });
      };
      show();
      clearInterval(countdown);
      countdown = setInterval(show, 500);
      await waitOrWake(ms, (wake) => now.addEventListener('click', wake, { once: true }));
      clearInterval(countdown);
      count.textContent = t('net.trying');
    },
    /** Removes the notice once the server answered. */
    hide() {
      clearInterval(countdown);
      shown = null;
      slot.replaceChildren();
    },
  };
}

/** Whether an answer means "try again later" rather than a verdict on the request. */
function transient(res) {
  return res.status >= 500 || res.status === 408 || res.status === 429;
}

/**
 * Runs `request` (which resolves to an `api()` result) until the server gives a
 * verdict, waiting longer and longer between attempts while `notice` shows `key`.
 * Resolves to the result and how many attempts it took.
 */
export async function persist(request, notice, key) {
  for (let attempt = 0; ; attempt += 1) {
    if (attempt > 0) await notice.wait(retryDelayMs(attempt, Math.random()), key);
    let res;
    try {
      res = await request();
    } catch (e) {
      if (e instanceof NetworkError) continue;
      throw e;
    }
    if (transient(res)) continue;
    notice.hide();
    return { res, attempts: attempt + 1 };
  }
}
