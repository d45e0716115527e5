// The camera and microphone of a call: ONE getUserMedia stream, opened for the check
// and kept for the call (asking twice would prompt twice and could pick other devices),
// its preview and a microphone level meter.
import { getMedia } from '../check/media-error.js';
import { level } from '../check/microphone.js';
import { t } from '../i18n.js';

const CONSTRAINTS = {
  audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
  video: { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 24 }, facingMode: 'user' },
};

/** Opens the camera and the microphone together; rejects as getUserMedia does. */
export function openCallMedia() {
  return getMedia(CONSTRAINTS);
}

/** Stops every track of `stream` (the camera light goes off). */
export function stopMedia(stream) {
  for (const track of stream?.getTracks() ?? []) track.stop();
}

/** Which of the two devices the browser knows of: `{ cam, mic }` (false when absent). */
async function devicesPresent() {
  try {
    const list = await navigator.mediaDevices.enumerateDevices();
    return { cam: list.some((d) => d.kind === 'videoinput'), mic: list.some((d) => d.kind === 'audioinput') };
  } catch {
    return { cam: true, mic: true };
  }
}

/** What to tell the user when the camera and microphone could not be opened. */
export async function callMediaError(error) {
  const name = error?.name ?? '';
  if (name === 'NotAllowedError' || name === 'PermissionDeniedError') return t('call.media.denied');
  if (name === 'NotFoundError' || name === 'DevicesNotFoundError' || name === 'OverconstrainedError') {
    const { cam, mic } = await devicesPresent();
    if (!cam && mic) return t('call.media.no_camera');
    if (cam && !mic) return t('call.media.no_microphone');
    return t('call.media.missing');
  }
  if (name === 'NotReadableError' || name === 'TrackStartError' || name === 'AbortError') return t('call.media.busy');
  if (name === 'Unsupported' || name === 'SecurityError') return t('check.media.unsupported');
  return `${t('call.media.failed')} ${error?.message ?? ''}`.trim();
}

/** Shows `stream` in the (muted) preview `video`. */
export async function showPreview(video, stream) {
  video.muted = true;
  video.srcObject = stream;
  await video.play().catch(() => {});
}

/**
 * Follows the microphone's level: `onLevel(value in [0, 1])` about 20 times a second.
 * Returns `stop()`. The audio context may start suspended (no click on the page yet):
 * it is resumed at the first click or key press.
 */
export function micMeter(stream, onLevel) {
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (!Ctx || !stream.getAudioTracks().length) return () => {};
  const ctx = new Ctx();
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 1024;
  // A stream of the audio track only: the meter does not hold the camera.
  ctx.createMediaStreamSource(new MediaStream(stream.getAudioTracks())).connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  const resume = () => {
    if (ctx.state === 'suspended') ctx.resume().catch(() => {});
  };
  resume();
  window.addEventListener('pointerdown', resume);
  window.addEventListener('keydown', resume);
  const timer = setInterval(() => {
    analyser.getFloatTimeDomainData(samples);
    onLevel(level(samples));
  }, 50);
  return () => {
    clearInterval(timer);
    window.removeEventListener('pointerdown', resume);
    window.removeEventListener('keydown', resume);
    ctx.close().catch(() => {});
    onLevel(0);
  };
}
