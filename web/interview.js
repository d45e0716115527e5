// The candidate's oral interview (/interview/{id}, the link of the mails): the
// appointment, then the camera and microphone check (one stream, kept for the call),
// the waiting room until the evaluator admits them, and the video call itself.
// Signaling: docs/signaling.md. A dropped connection is opened again on its own; the
// server lets an admitted candidate back in within 30 s.
import { api } from './api.js';
import { focusStatic, h } from './dom.js';
import { t, tf, translate } from './i18n.js';
import { fmtDate, fmtTime, isoDate } from './time.js';
import { fmtDuration, sinceInstant } from './call/clock.js';
import { signalingErrorText } from './call/errors.js';
import { callMediaError, micMeter, openCallMedia, showPreview, stopMedia } from './call/media.js';
import { createPeer } from './call/peer.js';
import { attachRemote, detachRemote } from './call/remote-video.js';
import { connectSignaling } from './call/signaling.js';

translate();
const $ = (id) => document.getElementById(id);
const room = new URLSearchParams(location.search).get('id')
  || decodeURIComponent(location.pathname.split('/').filter(Boolean).pop() ?? '');

let scheduledAt = null; // the appointment (RFC 3339), once known
let stream = null; // the camera and microphone, opened once and kept
let stopMeter = () => {};
let signaling = null;
let peer = null;
let mediaToken = null;
/** The TURN servers that came with the media grant. */
let iceServers = [];
let phase = 'check'; // check → joining → (not_open →) waiting → call → ended/denied/removed/left/cancelled/no_show (expired may go back)
let startedAt = null;
let ticker = null;
let openTimer = null; // comes back when the room opens
// The phases after which nothing more happens on this page.
const FINAL = ['ended', 'denied', 'removed', 'left', 'cancelled', 'no_show'];
// Set once the candidate joined from this tab: a reload goes back in without a click.
const joinedKey = `langcert.interview.${room}.joined`;

// ---- The appointment ----

function appointmentText(iso) {
  const start = new Date(iso);
  const fmt = new Intl.DateTimeFormat(document.documentElement.lang, { dateStyle: 'full', timeStyle: 'short' });
  return tf('interview.when', { when: fmt.format(start) });
}

async function loadAppointment() {
  const res = await api('GET', `/api/v1/interviews/${encodeURIComponent(room)}`).catch(() => null);
  if (res?.ok) {
    scheduledAt = res.data.scheduled_at;
    $('when').textContent = appointmentText(scheduledAt);
    // An interview that is over says so at once, whatever the page was doing.
    if (['ended', 'cancelled', 'no_show'].includes(res.data.status)) finish(res.data.status);
    else if (phase === 'waiting') showWaiting(scheduledAt);
    return;
  }
  $('when').textContent = !res ? t('journey.network') : res.status === 401 ? t('interview.signin') : t('interview.unknown');
}

// ---- Messages on the page ----

function say(el, text, kind = '') {
  el.textContent = text;
  el.classList.toggle('error', kind === 'error');
  el.classList.toggle('ok', kind === 'ok');
}

const callError = (text) => say($('call-error'), text);

// ---- The camera and microphone check ----

async function checkMedia() {
  $('media-retry').hidden = true;
  $('join').disabled = true;
  say($('media-status'), t('call.media.asking'));
  let opened;
  try {
    opened = await openCallMedia();
  } catch (error) {
    say($('media-status'), await callMediaError(error), 'error');
    $('media-retry').hidden = false;
    return false;
  }
  // The interview turned out to be over while the camera was opening.
  if (FINAL.includes(phase)) {
    stopMedia(opened);
    return false;
  }
  const previous = stream;
  stream = opened;
  stopMeter();
  await showPreview($('local-video'), stream);
  stopMeter = micMeter(stream, (value) => { $('mic-level').value = value; });
  for (const track of stream.getTracks()) track.addEventListener('ended', () => deviceLost(track));
  // During a call, the new camera and microphone replace the lost ones in place.
  if (peer && previous) {
    for (const sender of peer.pc.getSenders()) {
      const track = sender.track ? stream.getTracks().find((tr) => tr.kind === sender.track.kind) : null;
      if (track) sender.replaceTrack(track).catch(() => {});
    }
    stopMedia(previous);
  }
  say($('media-status'), t('interview.media.ok'), 'ok');
  $('join').disabled = phase !== 'check';
  return true;
}

function deviceLost(track) {
  if (!stream?.getTracks().includes(track) || FINAL.includes(phase)) return;
  $('media-check').hidden = false;
  say($('media-status'), t(track.kind === 'video' ? 'call.media.camera_lost' : 'call.media.mic_lost'), 'error');
  $('media-retry').hidden = false;
}

$('media-retry').addEventListener('click', async () => {
  if (!(await checkMedia())) $('media-retry').focus();
  else if ($('join').hidden) focusStatic($('media-status'));
  else $('join').focus();
});

// ---- The waiting room ----

function waitingText(iso) {
  if (!iso) return t('interview.waiting.text_no_time');
  const start = new Date(iso);
  if (Number.isNaN(start.getTime())) return t('interview.waiting.text_no_time');
  return isoDate(start) === isoDate(new Date())
    ? tf('interview.waiting.text', { time: fmtTime(start) })
    : tf('interview.waiting.text_other_day', { date: fmtDate(start), time: fmtTime(start) });
}

function showWaiting(iso) {
  const box = $('waiting');
  if (iso) box.dataset.scheduled = iso;
  const wasHidden = box.hidden;
  box.hidden = false;
  const text = waitingText(iso);
  if ($('waiting-text').textContent !== text) $('waiting-text').textContent = text;
  if (wasHidden) focusStatic($('waiting-title'));
}

function join() {
  if (!stream || phase !== 'check') return;
  phase = 'joining';
  sessionStorage.setItem(joinedKey, '1');
  $('join').hidden = true;
  $('media-retry').hidden = true;
  $('leave-line').hidden = false;
  $('waiting').hidden = false;
  if (scheduledAt) $('waiting').dataset.scheduled = scheduledAt;
  $('waiting-text').textContent = t('interview.waiting.connecting');
  focusStatic($('waiting-title'));
  signaling = connectSignaling(room, { onMessage, onStatus });
}
$('join').addEventListener('click', join);

// ---- The call ----

function showCall() {
  $('waiting').hidden = true;
  $('media-check').hidden = true;
  $('call').hidden = false;
  // The preview becomes the small picture of oneself in the corner of the call.
  if ($('self').parentElement !== $('stage')) {
    $('stage').append($('self'));
    $('local-video').play().catch(() => {});
  }
}

function leaveCallView() {
  closePeer();
  $('call').hidden = true;
  $('media-check').hidden = false;
  if ($('self').parentElement === $('stage')) {
    $('media-status').before($('self'));
    $('local-video').play().catch(() => {});
  }
}

function closePeer() {
  peer?.close();
  peer = null;
  detachRemote($('remote-video'), $('remote-sound'));
  $('remote-empty').hidden = false;
}

async function startCall() {
  closePeer();
  showCall();
  callError('');
  const p = createPeer({
    stream,
    iceServers,
    onRemote: (remote) => attachRemote($('remote-video'), remote, $('remote-sound'), (live) => { $('remote-empty').hidden = live; }),
    onState: (state) => peerState(p, state),
  });
  peer = p;
  try {
    const sdp = await p.offer();
    if (peer !== p) return;
    // When the connection is down, the reconnection brings a new `admitted` and a new offer.
    signaling?.send({ type: 'offer', sdp, media_token: mediaToken });
  } catch (error) {
    if (peer === p) callError(`${t('call.peer_failed')} ${error?.message ?? ''}`.trim());
  }
}

function peerState(p, state) {
  if (peer !== p) return;
  if (state === 'connected') {
    say($('connection'), '');
    if ($('call-error').textContent === t('call.video_lost')) callError('');
  } else if (state === 'disconnected') {
    say($('connection'), t('call.video_unstable'));
  } else if (state === 'failed') {
    // A new connection: the server admits again, with a new token, and a new offer goes.
    callError(t('call.video_lost'));
    signaling?.reconnect();
  }
}

async function answerOffer(sdp) {
  const p = peer;
  if (!p) return;
  try {
    const answer = await p.answer(sdp);
    if (peer === p) signaling?.send({ type: 'answer', sdp: answer, media_token: mediaToken });
  } catch (error) {
    if (peer === p) callError(`${t('call.peer_failed')} ${error?.message ?? ''}`.trim());
  }
}

// ---- The interview's progress ----

function showInterviewState(msg) {
  const box = $('interview-state');
  box.dataset.state = msg.state ?? '';
  clearInterval(ticker);
  ticker = null;
  if (msg.state === 'ended') {
    finish('ended');
    return;
  }
  if (msg.state === 'in_progress') {
    startedAt = msg.started_at ?? startedAt ?? new Date().toISOString();
    $('state-text').textContent = t('interview.state.in_progress');
    $('elapsed-line').hidden = false;
    const tick = () => { $('elapsed').textContent = fmtDuration(sinceInstant(startedAt)); };
    tick();
    ticker = setInterval(tick, 1000);
  } else if (msg.state === 'id_checked') {
    $('state-text').textContent = t('interview.state.id_checked');
    $('elapsed-line').hidden = true;
  }
}

// ---- The end (refused, removed, finished, left) ----

function outcome(kind, title, ...body) {
  $('media-check').hidden = true;
  $('waiting').hidden = true;
  $('call').hidden = true;
  $('leave-line').hidden = true;
  const box = $('outcome');
  box.dataset.kind = kind;
  box.hidden = false;
  $('outcome-title').textContent = title;
  $('outcome-body').replaceChildren(...body);
  focusStatic($('outcome-title'));
}

function finish(kind, reason = '') {
  if (FINAL.includes(phase)) return;
  phase = kind;
  clearTimeout(openTimer);
  sessionStorage.removeItem(joinedKey);
  clearInterval(ticker);
  ticker = null;
  closePeer();
  signaling?.close(kind === 'ended' || kind === 'left');
  signaling = null;
  stopMeter();
  stopMeter = () => {};
  stopMedia(stream);
  stream = null;
  say($('connection'), '');
  if (kind === 'denied') {
    outcome(kind, t('interview.denied.title'),
      h('p', {}, t('interview.denied.text')),
      h('p', { class: 'reason', dataset: { testid: 'denied-reason' } }, reason || t('interview.denied.no_reason')),
      h('p', {}, t('interview.contact')));
  } else if (kind === 'removed') {
    outcome(kind, t('interview.removed.title'), h('p', {}, t('interview.removed.text')), h('p', {}, t('interview.contact')));
  } else if (kind === 'ended') {
    outcome(kind, t('interview.ended.title'), h('p', {}, t('interview.ended.text')), h('p', {}, t('interview.ended.results')));
  } else if (kind === 'cancelled') {
    outcome(kind, t('interview.cancelled.title'), h('p', {}, t('interview.cancelled.text')), h('p', {}, t('interview.contact')));
  } else if (kind === 'no_show') {
    outcome(kind, t('interview.no_show.title'), h('p', {}, t('interview.no_show.text')),
      h('p', {}, h('a', { href: '/static/app.html', class: 'button-link', dataset: { testid: 'go-journey' } }, t('interview.no_show.next'))));
  } else {
    outcome(kind, t('interview.left.title'), h('p', {}, t('interview.left.text')),
      h('p', {}, h('a', { href: location.pathname + location.search, class: 'button-link', dataset: { testid: 'come-back' } }, t('interview.left.back'))));
  }
}

function expired() {
  phase = 'expired';
  leaveCallView();
  $('waiting').hidden = true;
  const again = h('button', { type: 'button', dataset: { testid: 'rejoin' } }, t('interview.expired.again'));
  again.addEventListener('click', () => {
    $('outcome').hidden = true;
    phase = 'joining';
    $('leave-line').hidden = false;
    $('waiting').hidden = false;
    $('waiting-text').textContent = t('interview.waiting.connecting');
    focusStatic($('waiting-title'));
    signaling?.rejoin();
  });
  outcome('expired', t('interview.expired.title'), h('p', {}, t('interview.expired.text')), h('p', {}, again));
  $('media-check').hidden = false;
}

$('leave').addEventListener('click', () => finish('left'));

// ---- Signaling ----

/** The room is not open yet: say when it opens, and knock again then. */
function notOpen(msg) {
  phase = 'not_open';
  const opens = new Date(msg.opens_at);
  $('waiting').hidden = false;
  $('waiting').dataset.opensAt = msg.opens_at;
  $('waiting-text').textContent = isoDate(opens) === isoDate(new Date())
    ? tf('interview.not_open.today', { time: fmtTime(opens) })
    : tf('interview.not_open.other_day', { date: fmtDate(opens), time: fmtTime(opens) });
  clearTimeout(openTimer);
  // Timers are capped at ~24.8 days; a page open that long asks again daily.
  const wait = Math.min(Math.max(0, opens.getTime() - Date.now()) + 500, 24 * 3600 * 1000);
  openTimer = setTimeout(() => {
    if (phase !== 'not_open') return;
    phase = 'joining';
    $('waiting-text').textContent = t('interview.waiting.connecting');
    signaling?.rejoin();
  }, wait);
}

function onMessage(msg) {
  if (FINAL.includes(phase)) return;
  switch (msg.type) {
    case 'not_open':
      notOpen(msg);
      break;
    case 'closed':
      finish(msg.state);
      break;
    case 'waiting':
      if (phase === 'call') leaveCallView();
      phase = 'waiting';
      callError('');
      $('outcome').hidden = true;
      scheduledAt = msg.scheduled_at ?? scheduledAt;
      showWaiting(scheduledAt);
      break;
    case 'admitted':
    case 'joined':
      if (!msg.media_token) break;
      mediaToken = msg.media_token;
      iceServers = msg.ice_servers ?? [];
      // Admitted again after a reconnection: a new media connection, the focus stays put.
      if (phase !== 'call') {
        phase = 'call';
        $('outcome').hidden = true;
        startCall();
        focusStatic($('call-title'));
      } else {
        startCall();
      }
      break;
    case 'answer':
      peer?.acceptAnswer(msg.sdp).catch((error) => callError(`${t('call.peer_failed')} ${error?.message ?? ''}`.trim()));
      break;
    case 'offer':
      answerOffer(msg.sdp);
      break;
    case 'interview':
      callError('');
      showInterviewState(msg);
      break;
    case 'denied':
      finish('denied', msg.reason);
      break;
    case 'removed':
      finish('removed');
      break;
    case 'expired':
      expired();
      break;
    case 'error':
      callError(signalingErrorText(msg));
      break;
    default:
      break;
  }
}

async function onStatus(status, info) {
  if (status === 'open') {
    say($('connection'), '');
  } else if (status === 'retrying') {
    say($('connection'), tf('call.reconnecting', { s: Math.max(1, Math.round(info.delay / 1000)) }), 'error');
    // Never got in three times: a session that ended is said plainly rather than retried forever.
    if (!info.everOpened && info.attempt === 3) {
      const res = await api('GET', `/api/v1/interviews/${encodeURIComponent(room)}`).catch(() => null);
      if (res && (res.status === 401 || res.status === 403 || res.status === 404)) {
        signaling?.close();
        signaling = null;
        say($('connection'), '');
        callError(res.status === 401 ? t('interview.signin') : t('interview.unknown'));
      }
    }
  }
}

// Leaving the page is not leaving the room: a reload keeps the candidate's place.
window.addEventListener('pagehide', () => {
  signaling?.close(false);
  stopMeter();
  stopMedia(stream);
});
// Back from the browser's page cache, the camera and the connection are gone: start again.
window.addEventListener('pageshow', (event) => {
  if (event.persisted) location.reload();
});

const [, ready] = await Promise.all([loadAppointment(), checkMedia()]);
if (ready && sessionStorage.getItem(joinedKey)) join();
