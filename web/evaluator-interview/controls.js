// The interview's three steps, in this order only: "Pièce d'identité vérifiée"
// (id_checked), "Démarrer l'entretien" (start), "Terminer l'entretien" (end); each is
// enabled only when it is next. The server's `interview` messages move the steps on.
// The timer counts from `started_at` against the guide's 15 to 20 minutes: green under
// 15, amber from 15 to 20, red after 20, said in words too, and announced to screen
// readers every 5 minutes.
import { t, tf } from '../i18n.js';
import { fmtDuration, sinceInstant } from '../call/clock.js';

const MINUTE = 60000;
export const TARGET_LOW_MIN = 15;
export const TARGET_HIGH_MIN = 20;

/** `green`, `amber` or `red` for an elapsed time in ms. */
export function timerPhase(ms) {
  if (ms < TARGET_LOW_MIN * MINUTE) return 'green';
  if (ms < TARGET_HIGH_MIN * MINUTE) return 'amber';
  return 'red';
}

const STEPS = [
  { id: 'id-checked', li: 'step-id', send: 'id_checked', reached: 'id_checked' },
  { id: 'start-interview', li: 'step-start', send: 'start', reached: 'in_progress' },
  { id: 'end-interview', li: 'step-end', send: 'end', reached: 'ended' },
];
const ORDER = [null, 'id_checked', 'in_progress', 'ended'];

/**
 * Wires the steps and the timer of the page. `send(msg)` returns false when the
 * connection is down. `onState(state)` follows the interview's state.
 * Returns `{ setState(msg), setOnline(bool), failed() }`.
 */
export function createControls(send, onState = () => {}) {
  const $ = (id) => document.getElementById(id);
  let state = null;
  let online = false;
  let pending = null; // the step sent and not yet confirmed
  let startedAt = null;
  let ticker = null;
  let announced = 0; // the last multiple of 5 minutes said aloud

  function draw() {
    const reached = ORDER.indexOf(state);
    STEPS.forEach((step, i) => {
      const button = $(step.id);
      const done = i < reached;
      const next = i === reached;
      $(step.li).dataset.done = String(done);
      $(`${step.li}-note`).textContent = done ? t('room.controls.done') : '';
      if (next && online) button.disabled = false;
      if (pending === step.send) button.setAttribute('aria-disabled', 'true');
      else button.removeAttribute('aria-disabled');
      if (!next || !online) {
        // Disabled once the focus left it, so keyboard users are not dropped on the page.
        if (document.activeElement === button) {
          const following = STEPS[reached] ? $(STEPS[reached].id) : null;
          if (following && online && following !== button) {
            following.disabled = false;
            following.focus();
          }
        }
        button.disabled = true;
      }
    });
    $('ended-line').hidden = state !== 'ended';
  }

  for (const step of STEPS) {
    $(step.id).addEventListener('click', () => {
      if (pending || ORDER[STEPS.indexOf(step)] !== state) return;
      if (!send({ type: step.send })) {
        $('call-error').textContent = t('room.offline_action');
        return;
      }
      pending = step.send;
      draw();
    });
  }

  function tick() {
    const ms = sinceInstant(startedAt);
    const phase = timerPhase(ms);
    const box = $('interview-timer');
    box.dataset.phase = phase;
    $('timer-clock').textContent = fmtDuration(ms);
    $('timer-phase').textContent = t(`room.timer.${phase}`);
    const fives = Math.floor(ms / (5 * MINUTE));
    if (fives > announced) {
      announced = fives;
      const minutes = fives * 5;
      const extra = minutes >= TARGET_HIGH_MIN ? t('room.timer.say_over') : minutes >= TARGET_LOW_MIN ? t('room.timer.say_target') : '';
      $('timer-announce').textContent = `${tf('room.timer.say', { n: minutes })} ${extra}`.trim();
    }
  }

  function startTimer(iso) {
    const first = !startedAt;
    startedAt = iso ?? startedAt ?? new Date().toISOString();
    // Opened in the middle of the interview: the next announcement is the next 5 minutes.
    if (first) announced = Math.floor(sinceInstant(startedAt) / (5 * MINUTE));
    clearInterval(ticker);
    tick();
    ticker = setInterval(tick, 1000);
    $('interview-timer').dataset.state = 'running';
  }

  /** Stops the clock, at `endedIso` when the record says when it ended. */
  function stopTimer(endedIso) {
    clearInterval(ticker);
    ticker = null;
    const box = $('interview-timer');
    box.dataset.state = 'ended';
    if (startedAt) {
      const ms = endedIso ? Math.max(0, Date.parse(endedIso) - Date.parse(startedAt)) : sinceInstant(startedAt);
      box.dataset.phase = timerPhase(ms);
      $('timer-clock').textContent = fmtDuration(ms);
      $('timer-phase').textContent = tf('room.timer.total', { time: fmtDuration(ms) });
    }
  }

  draw();
  return {
    /** An `interview` message of the server (or the state known from the API, with
     * `started_at` / `ended_at` when the record has them). */
    setState(msg) {
      const next = ORDER.includes(msg.state) ? msg.state : state;
      pending = null;
      if (next === 'in_progress') startTimer(msg.started_at);
      // Ended: the clock stops (again, with the record's times when they come later).
      if (next === 'ended' && (state !== 'ended' || msg.ended_at)) {
        if (msg.started_at) startedAt = msg.started_at;
        stopTimer(msg.ended_at);
      }
      state = next;
      draw();
      onState(state);
    },
    setOnline(value) {
      online = value;
      draw();
    },
    /** The server refused the step: it may be tried again. */
    failed() {
      pending = null;
      draw();
    },
    state: () => state,
  };
}
