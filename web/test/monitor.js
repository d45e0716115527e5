// The written test's webcam monitoring: the camera and microphone (asked for once,
// the stream kept), a small picture of oneself in a corner, and a send-only WebRTC
// connection to the media server, set up on the monitoring WebSocket (/ws/monitor):
//   → { type: 'monitor', session }          ← { type: 'monitoring', session, media_token }
//   → { type: 'offer', sdp, media_token }    ← { type: 'answer', sdp }
//   ← { type: 'camera', receiving }          the server started or stopped receiving
// A warning shows whenever the server is not getting the camera; the connection is set
// up again on its own. Nothing here ever stops the test.
import { h } from '../dom.js';
import { t, tf } from '../i18n.js';
import { callMediaError, openCallMedia, stopMedia } from '../call/media.js';
import { getMedia } from '../check/media-error.js';
import { createPeer } from '../call/peer.js';
import { connectSignaling } from '../call/signaling.js';

/**
 * What the monitoring sends of the camera: the server analyses one frame a second at
 * 320 pixels wide, so a 640×480 camera goes at half its size, 5 frames a second and at
 * most 200 kbit/s (`langcert bench monitor` measures this shape).
 */
const MONITOR_ENCODING = { scaleResolutionDownBy: 2, maxFramerate: 5, maxBitrate: 200_000 };

/** Connection attempts in a row without the server before the warning shows. */
const SILENT_ATTEMPTS = 2;

/**
 * The camera and microphone; with only one of them present, that one. A refusal is
 * not asked again (the browser would prompt once more, or refuse at once).
 */
async function openMedia() {
  try {
    return await openCallMedia();
  } catch (error) {
    if (error?.name === 'NotAllowedError' || error?.name === 'PermissionDeniedError') throw error;
    for (const constraints of [{ video: { width: { ideal: 640 }, height: { ideal: 480 }, facingMode: 'user' } }, { audio: true }]) {
      try {
        return await getMedia(constraints);
      } catch {
        // the next one
      }
    }
    throw error;
  }
}

const liveVideo = (stream) => Boolean(stream?.getVideoTracks().some((track) => track.readyState === 'live'));

/**
 * Starts monitoring the written session `session` in `box` (an empty <aside>).
 * Returns `{ stop() }`, to call when the test is over.
 */
export function startMonitor(box, session) {
  const video = h('video', {
    class: 'monitor-video', muted: true, playsinline: true, autoplay: true,
    'aria-label': t('monitor.self_view'), dataset: { testid: 'self-view' },
  });
  const warning = h('p', { class: 'monitor-warning', role: 'alert', hidden: true, dataset: { testid: 'camera-warning' } });
  const retry = h('button', { type: 'button', class: 'secondary', hidden: true, dataset: { testid: 'camera-retry' } }, t('call.media.retry'));
  const note = h('p', { class: 'monitor-note', role: 'status', dataset: { testid: 'monitor-note' } });
  box.replaceChildren(h('p', { class: 'monitor-label' }, t('monitor.label')), video, warning, retry, note);
  box.hidden = false;

  let stream = null;
  let signaling = null;
  let peer = null;
  let mediaToken = null;
  let stopped = false;
  // Why the warning shows: the camera is missing here, the server said it gets
  // nothing, or the connection to it is down.
  const problems = { camera: false, server: false, connection: false };
  let cameraText = '';

  function show() {
    if (stopped) return;
    const text = problems.camera ? cameraText
      : problems.server || problems.connection ? t('monitor.not_received') : '';
    if (!text) {
      warning.hidden = true;
      warning.textContent = '';
    } else if (warning.textContent !== text) {
      warning.hidden = false;
      warning.textContent = text;
    }
    retry.hidden = !problems.camera;
    box.dataset.warning = String(Boolean(text));
  }

  function problem(key, on, text) {
    problems[key] = on;
    if (key === 'camera' && text) cameraText = text;
    show();
  }

  // ---- The camera and microphone ----

  async function openStream() {
    retry.hidden = true;
    try {
      const opened = await openMedia();
      if (stopped) {
        stopMedia(opened);
        return false;
      }
      stopMedia(stream);
      stream = opened;
      video.srcObject = stream;
      video.play().catch(() => {});
      for (const track of stream.getTracks()) track.addEventListener('ended', () => trackEnded(track));
      problem('camera', !liveVideo(stream), t('monitor.no_camera'));
      return true;
    } catch (error) {
      problem('camera', true, `${t('monitor.camera_refused')} ${await callMediaError(error)}`);
      return false;
    }
  }

  function trackEnded(track) {
    if (stopped || !stream?.getTracks().includes(track)) return;
    if (track.kind === 'video') problem('camera', true, t('monitor.camera_stopped'));
  }

  retry.addEventListener('click', async () => {
    retry.disabled = true;
    const ok = await openStream();
    retry.disabled = false;
    // A new connection, with the new tracks to send.
    if (ok) signaling?.reconnect();
  });

  // ---- The connection to the media server ----

  function closePeer() {
    peer?.close();
    peer = null;
  }

  async function startPeer() {
    closePeer();
    if (!stream || !stream.getTracks().length) return;
    const p = createPeer({ stream, direction: 'sendonly', videoEncoding: MONITOR_ENCODING, onState: (state) => peerState(p, state) });
    peer = p;
    try {
      const sdp = await p.offer();
      if (peer === p) signaling?.send({ type: 'offer', sdp, media_token: mediaToken });
    } catch (error) {
      if (peer === p) note.textContent = `${t('call.peer_failed')} ${error?.message ?? ''}`.trim();
    }
  }

  function peerState(p, state) {
    if (peer !== p || stopped) return;
    if (state === 'connected') {
      problem('connection', false);
    } else if (state === 'failed') {
      // A new socket: the server grants a new token, and a new offer goes.
      problem('connection', true);
      signaling?.reconnect();
    }
  }

  function onMessage(msg) {
    if (stopped) return;
    switch (msg.type) {
      case 'monitoring':
        if (!msg.media_token) break;
        mediaToken = msg.media_token;
        note.textContent = '';
        startPeer();
        break;
      case 'answer':
        peer?.acceptAnswer(msg.sdp).catch((error) => {
          note.textContent = `${t('call.peer_failed')} ${error?.message ?? ''}`.trim();
        });
        break;
      case 'camera':
        problem('server', msg.receiving !== true);
        if (msg.receiving === true) problem('connection', false);
        break;
      case 'error':
        note.textContent = tf('monitor.error', { detail: msg.message || msg.code || '' });
        break;
      default:
        break;
    }
  }

  function onStatus(status, info) {
    // The media may still flow while the socket is down: the connection is set up
    // again when the server grants monitoring anew.
    if (status === 'retrying' && info.attempt >= SILENT_ATTEMPTS) problem('connection', true);
  }

  (async () => {
    await openStream();
    if (stopped) return;
    signaling = connectSignaling(session, { hello: { type: 'monitor', session }, path: '/ws/monitor', onMessage, onStatus });
  })();

  const stop = () => {
    if (stopped) return;
    stopped = true;
    closePeer();
    signaling?.close(false);
    signaling = null;
    stopMedia(stream);
    stream = null;
    video.srcObject = null;
    box.hidden = true;
    box.replaceChildren();
  };
  window.addEventListener('pagehide', stop, { once: true });
  return { stop };
}
