// The screens of the test page: a question (heading, timer, item, "Valider"), the
// 3-second interstitial, the end, and messages. Each transition moves the focus to
// the new screen's heading, so keyboard and screen-reader users follow along.
import { focusStatic, h } from '../dom.js';
import { t, tf, withLang } from '../i18n.js';
import { renderItem } from './items/index.js';
import { startTimer } from './timer.js';

/** "Question 12 / 50 — Grammaire et syntaxe". */
export function questionTitle(position, total, domain, key = 'test.question') {
  return tf(key, { n: position, total, domain: t(`domain.${domain}`) });
}

/**
 * Shows one question. `timer` is `{ limitMs, deadlineMs, clock, onExpire }` or null;
 * `notice` is an optional message above the question (a late answer before it).
 * Returns the screen's controls.
 */
export function questionScreen(stage, { title, item, ctx, timer, notice }) {
  const heading = h('h1', { class: 'question-heading', tabindex: '-1', dataset: { testid: 'question-heading' } }, title);
  const rendered = renderItem(item, ctx);
  const running = timer ? startTimer(timer) : null;
  const fieldset = h('fieldset', { class: 'item-frame' }, h('legend', { class: 'sr-only' }, t('test.answer')), rendered.el);
  const validate = h('button', { type: 'button', class: 'primary', dataset: { testid: 'validate' } }, t('test.validate'));
  const status = h('p', { class: 'submit-status', role: 'status', dataset: { testid: 'submit-status' } });
  const feedback = h('div', { class: 'feedback-slot' });
  const section = h('section', { class: 'question', dataset: { testid: 'question' } },
    notice ? h('p', { class: 'late', role: 'alert', dataset: { testid: 'late-message' } }, notice) : null,
    heading,
    running ? running.el : null,
    fieldset,
    h('div', { class: 'actions' }, validate),
    status,
    feedback);
  stage.replaceChildren(section);
  focusStatic(heading);
  return {
    response: rendered.response,
    validate,
    feedback,
    onValidate(fn) {
      validate.addEventListener('click', () => fn(rendered.response()));
    },
    lock() {
      // Disabling the focused control would drop the focus to the page's start.
      const inside = section.contains(document.activeElement);
      fieldset.disabled = true;
      validate.disabled = true;
      if (inside) focusStatic(status);
    },
    unlock() {
      fieldset.disabled = false;
      validate.disabled = false;
    },
    status(text, kind = '') {
      status.textContent = text;
      status.className = `submit-status ${kind}`;
    },
    stopTimer() {
      running?.stop();
    },
    dispose() {
      running?.stop();
      rendered.dispose();
    },
  };
}

/**
 * The pause between two questions: "Préparez-vous pour la question suivante…" with a
 * countdown. `late` and `timeUp` add why the previous question ended. `wait(at)`
 * resolves at the page's instant `at`, and can be called again to wait longer.
 */
export function interstitial(stage, { late = false, timeUp = false } = {}) {
  const count = h('p', { class: 'countdown', 'aria-hidden': 'true', dataset: { testid: 'countdown' } });
  const heading = h('h1', { tabindex: '-1' }, t('test.next.ready'));
  stage.replaceChildren(h('section', { class: 'interstitial', dataset: { testid: 'interstitial' } },
    late ? h('p', { class: 'late', role: 'alert', dataset: { testid: 'late-message' } }, t('test.late')) : null,
    timeUp ? h('p', { class: 'time-up', role: 'alert', dataset: { testid: 'time-up' } }, t('test.time_up')) : null,
    heading,
    count));
  focusStatic(heading);
  return {
    wait(at) {
      return new Promise((resolve) => {
        const tick = () => {
          const left = at - performance.now();
          count.textContent = String(Math.max(0, Math.ceil(left / 1000)));
          if (left <= 0) {
            clearInterval(timer);
            resolve();
          }
        };
        const timer = setInterval(tick, 100);
        tick();
      });
    },
  };
}

/** A screen with a title, paragraphs and actions (links or buttons). */
export function messageScreen(stage, { title, body = [], actions = [], testid = 'message', kind = '' }) {
  const heading = h('h1', { tabindex: '-1' }, title);
  stage.replaceChildren(h('section', { class: `message ${kind}`, dataset: { testid } },
    heading,
    body.map((p) => (p instanceof Node ? p : h('p', {}, p))),
    actions.length ? h('p', { class: 'actions' }, actions) : null));
  focusStatic(heading);
}

/** A link back to the candidate's home page. */
export function homeLink() {
  return h('a', { href: withLang('/app/'), class: 'button-link', dataset: { testid: 'home' } }, t('test.home'));
}

/** The "loading" placeholder. */
export function loadingScreen(stage) {
  stage.replaceChildren(h('p', { class: 'loading', role: 'status' }, t('test.loading')));
}
