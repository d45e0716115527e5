// The evaluator's interview room (/static/evaluator-interview.html?id=<interview>):
// their camera and microphone (one stream, kept), the waiting room live (with a sound
// cue when someone knocks), the candidate's video, the interview's steps and timer, and
// the guide's prompts. Signaling: docs/signaling.md; the room is joined on load and
// again after each reconnection, each `joined` bringing a fresh media token and so a
// fresh connection to the media server.
import { api } from '../api.js';
import { focusStatic } from '../dom.js';
import { t, tf, translate } from '../i18n.js';
import { fmtDate, fmtTime } from '../time.js';
import { beep, soundReady, unlockSound } from '../call/beep.js';
import { signalingErrorText } from '../call/errors.js';
import { callMediaError, micMeter, openCallMedia, showPreview, stopMedia } from '../call/media.js';
import { createPeer } from '../call/peer.js';
import { attachRemote, detachRemote } from '../call/remote-video.js';
import { connectSignaling } from '../call/signaling.js';
import { createControls } from './controls.js';
import { createPrompts } from './prompts.js';
import { createWaitingList } from './waiting-list.js';

translate();
const $ = (id) => document.getElementById(id);
const room = new URLSearchParams(location.search).get('id') ?? '';
const baseTitle = document.title;

function say(el, text, kind = '') {
  el.textContent = text;
  el.classList.toggle('error', kind === 'error');
  el.classList.toggle('ok', kind === 'ok');
}
const callError = (text) => say($('call-error'), text);

if (!room) {
  callError(t('room.no_id'));
  throw new Error('no interview id');
}

let stream = null;
let stopMeter = () => {};
let mediaTry = null; // the pending (or last) attempt to open the camera and microphone
let signaling = null;
let peer = null;
let mediaToken = null;
/** The TURN servers that came with the media grant. */
let iceServers = [];

// ---- The interview (appointment, level, status) ----

async function loadInterview() {
  const res = await api('GET', `/api/v1/interviews/${encodeURIComponent(room)}`).catch(() => null);
  if (!res?.ok) {
    say($('room-info'), !res ? t('journey.network') : res.status === 401 ? t('home.signed_out') : `${t('room.unknown')} ${res.message ?? ''}`.trim(), 'error');
    return;
  }
  const i = res.data;
  const start = new Date(i.scheduled_at);
  const parts = [tf('room.info.when', { date: fmtDate(start), time: fmtTime(start) })];
  if (i.duration_min) parts.push(tf('room.info.length', { n: i.duration_min }));
  if (i.target_cefr) parts.push(tf('evaluator.target', { level: i.target_cefr }));
  $('room-info').textContent = parts.join(' · ');
  // Before any `interview` message: what the record says.
  if (controls.state() === null && ['id_checked', 'in_progress'].includes(i.status)) {
    controls.setState({ state: i.status, started_at: i.started_at });
  }
  if (['ended', 'cancelled', 'no_show'].includes(i.status)) closed(i.status, i);
}

// ---- A room that is not open yet, or closed ----

let openTimer = null;

function roomState(text) {
  $('room-state').hidden = !text;
  $('room-state').textContent = text;
}

/** Before the room opens: say when, and join then. */
function notOpen(msg) {
  const opens = new Date(msg.opens_at);
  roomState(tf('room.not_open', { date: fmtDate(opens), time: fmtTime(opens) }));
  // Connected, not in the room: nothing to do until it opens.
  list.setOnline(false);
  controls.setOnline(false);
  $('room-state').dataset.state = 'not_open';
  clearTimeout(openTimer);
  const wait = Math.min(Math.max(0, opens.getTime() - Date.now()) + 500, 24 * 3600 * 1000);
  openTimer = setTimeout(() => signaling?.rejoin(), wait);
}

/** The interview is over: `ended` (maybe closed without recording), `cancelled`, `no_show`. */
function closed(state, record = null) {
  clearTimeout(openTimer);
  signaling?.close(false);
  signaling = null;
  closePeer();
  const closure = record?.closure ?? null;
  const key = closure ? `room.closed.${closure}` : `room.closed.${state}`;
  roomState(record?.closure_reason ? `${t(key)} ${tf('room.closed.reason', { reason: record.closure_reason })}` : t(key));
  $('room-state').dataset.state = closure ?? state;
  // Ended in the room too soon to be scored: it may still be closed as held without
  // recording (the connection failed and it went on by phone).
  $('close-other').hidden = !(state === 'ended' && record && !record.closure && !record.scoreable);
  if (state === 'ended') controls.setState({ state: 'ended', started_at: record?.started_at, ended_at: record?.ended_at });
}

$('close-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const kind = $('close-form').querySelector('input[name="close-kind"]:checked')?.value;
  const reason = $('close-reason').value.trim();
  if (!kind || !reason) {
    say($('close-status'), t('room.close.missing'), 'error');
    return;
  }
  $('close-submit').disabled = true;
  const res = await api('POST', `/api/v1/interviews/${encodeURIComponent(room)}/close`, { kind, reason }).catch(() => null);
  $('close-submit').disabled = false;
  if (!res?.ok) {
    const code = res?.code;
    const key = `room.close.error.${code}`;
    say($('close-status'), !res ? t('journey.network') : t(key) === key ? (res.message ?? code ?? '') : t(key), 'error');
    return;
  }
  say($('close-status'), t('room.close.done'), 'ok');
  closed(res.data.status, res.data);
  focusStatic($('room-state'));
});

// ---- Camera and microphone ----

function openMedia() {
  mediaTry = (async () => {
    $('media-retry').hidden = true;
    say($('media-status'), t('call.media.asking'));
    try {
      const opened = await openCallMedia();
      stopMedia(stream);
      stream = opened;
    } catch (error) {
      say($('media-status'), await callMediaError(error), 'error');
      $('media-retry').hidden = false;
      return false;
    }
    await showPreview($('local-video'), stream);
    stopMeter();
    stopMeter = micMeter(stream, (value) => { $('mic-level').value = value; });
    for (const track of stream.getTracks()) {
      track.addEventListener('ended', () => {
        if (!stream?.getTracks().includes(track)) return;
        say($('media-status'), t(track.kind === 'video' ? 'call.media.camera_lost' : 'call.media.mic_lost'), 'error');
        $('media-retry').hidden = false;
      });
    }
    say($('media-status'), '');
    return true;
  })();
  return mediaTry;
}

$('media-retry').addEventListener('click', async () => {
  const hadPeer = Boolean(peer);
  const sending = peer?.pc.getSenders().some((s) => s.track);
  if (!(await openMedia())) {
    $('media-retry').focus();
    return;
  }
  if (sending) {
    // Replace the lost camera or microphone on the running connection.
    for (const sender of peer.pc.getSenders()) {
      const track = sender.track ? stream.getTracks().find((tr) => tr.kind === sender.track.kind) : null;
      if (track) sender.replaceTrack(track).catch(() => {});
    }
  } else if (hadPeer) {
    // The connection only received: a new one publishes the camera (the server grants it anew).
    signaling?.reconnect();
  }
  focusStatic($('media-status'));
});

// ---- The connection to the media server ----

function closePeer() {
  peer?.close();
  peer = null;
  detachRemote($('remote-video'), $('remote-sound'));
  $('remote-empty').hidden = false;
}

async function startPeer() {
  closePeer();
  await mediaTry; // published once the camera question is settled (even when refused)
  const p = createPeer({
    stream,
    iceServers,
    onRemote: (remote) => attachRemote($('remote-video'), remote, $('remote-sound'), (live) => { $('remote-empty').hidden = live; }),
    onState: (state) => {
      if (peer !== p) return;
      if (state === 'connected') {
        say($('connection'), '');
        if ($('call-error').textContent === t('call.video_lost')) callError('');
      } else if (state === 'disconnected') say($('connection'), t('call.video_unstable'));
      else if (state === 'failed') {
        callError(t('call.video_lost'));
        signaling?.reconnect();
      }
    },
  });
  peer = p;
  try {
    const sdp = await p.offer();
    if (peer === p) signaling?.send({ type: 'offer', sdp, media_token: mediaToken });
  } catch (error) {
    if (peer === p) callError(`${t('call.peer_failed')} ${error?.message ?? ''}`.trim());
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

// ---- The waiting room, the steps, the prompts ----

const send = (msg) => Boolean(signaling?.send(msg));
const list = createWaitingList($('waiting-list'), $('waiting-empty'), room, {
  admit: (candidate) => send({ type: 'admit', candidate }),
  deny: (candidate, reason) => send({ type: 'deny', candidate, reason }),
  remove: (candidate) => send({ type: 'remove', candidate }),
});
const controls = createControls(send, (state) => {
  $('interview-timer').dataset.interview = state ?? '';
});
const prompts = createPrompts(room);

function waitingList(msg) {
  const fresh = list.update(msg.list);
  const count = list.waitingCount();
  document.title = count ? `(${count}) ${baseTitle}` : baseTitle;
  if (!msg.arrived) return;
  beep();
  const names = fresh.map((d) => d.name).filter(Boolean);
  $('arrival').textContent = names.length
    ? tf('room.waiting.arrived', { name: names.join(', ') })
    : t('room.waiting.arrived_someone');
}

// The sound cue needs one click or key press on the page first (browser rule).
function offerSound() {
  if (soundReady()) return;
  $('sound-enable').hidden = false;
  const unlock = async () => {
    if (await unlockSound()) {
      $('sound-enable').hidden = true;
      window.removeEventListener('pointerdown', unlock);
      window.removeEventListener('keydown', unlock);
    }
  };
  window.addEventListener('pointerdown', unlock);
  window.addEventListener('keydown', unlock);
  $('sound-enable').addEventListener('click', async () => {
    await unlock();
    beep();
    focusStatic($('waiting-title'));
  });
}

// ---- Signaling ----

function onMessage(msg) {
  switch (msg.type) {
    case 'not_open':
      notOpen(msg);
      break;
    case 'closed':
      closed(msg.state);
      loadInterview();
      break;
    case 'joined':
      roomState('');
      list.setOnline(true);
      controls.setOnline(true);
      if (msg.media_token) mediaToken = msg.media_token;
      iceServers = msg.ice_servers ?? [];
      startPeer();
      break;
    case 'waiting_list':
      waitingList(msg);
      break;
    case 'offer':
      answerOffer(msg.sdp);
      break;
    case 'answer':
      peer?.acceptAnswer(msg.sdp).catch((error) => callError(`${t('call.peer_failed')} ${error?.message ?? ''}`.trim()));
      break;
    case 'interview':
      callError('');
      controls.setState(msg);
      break;
    case 'error':
      list.failed();
      controls.failed();
      callError(signalingErrorText(msg));
      break;
    default:
      break;
  }
}

function onStatus(status, info) {
  const up = status === 'open';
  list.setOnline(up);
  controls.setOnline(up);
  if (up) say($('connection'), '');
  else if (status === 'retrying') say($('connection'), tf('call.reconnecting', { s: Math.max(1, Math.round(info.delay / 1000)) }), 'error');
}

// Leaving in the middle of the interview is asked about first.
window.addEventListener('beforeunload', (event) => {
  if (controls.state() !== 'in_progress') return;
  event.preventDefault();
  event.returnValue = '';
});
window.addEventListener('pagehide', () => {
  signaling?.close(false);
  closePeer();
  stopMeter();
  stopMedia(stream);
});
window.addEventListener('pageshow', (event) => {
  if (event.persisted) location.reload();
});

openMedia();
offerSound();
signaling = connectSignaling(room, { onMessage, onStatus });
await Promise.all([loadInterview(), prompts.load()]);
