// The identity step: two photos from the camera, a selfie (the face centred in a white
// circle) then the ID document (held inside a card-shaped frame). Each photo is sent as
// a JPEG (PUT /api/v1/me/identity/selfie or /document); the server checks it and says
// why it refuses one (no face, too dark…), and the candidate takes it again. Each
// accepted photo shows as a thumbnail from the captured frame (an object URL); after a
// reload only "accepted" shows, as the server does not give the photos back. Once both
// are accepted, the written test can start from the home page.
import { api, apiText } from './api.js';
import { getMedia, mediaErrorMessage } from './check/media-error.js';
import { focusStatic } from './dom.js';
import { t, translate } from './i18n.js';

translate();
const $ = (id) => document.getElementById(id);
const KINDS = ['selfie', 'document'];
const video = $('camera');

const state = { selfie: false, document: false, done: false, locked: false };
let step = null; // the photo being taken: 'selfie', 'document' or null
let stream = null; // the camera, open while a photo is being taken
let opening = null; // the camera being opened
let busy = false; // a photo is on its way
const stills = { selfie: null, document: null }; // object URLs of the accepted photos

// ---- Messages ----

function say(el, text, kind = '') {
  el.textContent = text;
  el.className = `check-status ${kind}`;
}

/** The refusal's text: one for the kind of photo when there is one, else the code's. */
function refusalText(kind, res) {
  if (!res) return t('journey.network');
  if (res.status === 401) return t('home.signed_out');
  for (const key of [`identity.error.${kind}.${res.code}`, `identity.error.${res.code}`]) {
    if (res.code && t(key) !== key) return t(key);
  }
  return `${t('journey.error')} ${res.message}`;
}

/** Shows why a photo was refused (`code` in data-code), or clears the message. */
function feedback(code, text = '') {
  const el = $('feedback');
  el.hidden = !text;
  el.dataset.code = code ?? '';
  el.textContent = text;
}

// ---- The camera ----

function cameraReady() {
  return Boolean(stream && video.readyState >= 2 && video.videoWidth > 0);
}

function setBusy(value) {
  busy = value;
  const off = busy || !cameraReady();
  for (const kind of KINDS) $(`capture-${kind}`).setAttribute('aria-disabled', String(off));
  $('capture').setAttribute('aria-busy', String(busy));
}

async function openCamera() {
  if (stream || opening) return opening;
  $('camera-retry').hidden = true;
  say($('camera-status'), t('check.cam.asking'));
  opening = (async () => {
    try {
      const opened = await getMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 }, facingMode: 'user' } });
      if (step === null) {
        for (const track of opened.getTracks()) track.stop();
        return;
      }
      stream = opened;
      for (const track of stream.getVideoTracks()) track.addEventListener('ended', cameraLost);
      video.srcObject = stream;
      await new Promise((resolve) => {
        if (video.readyState >= 2 && video.videoWidth > 0) resolve();
        else video.addEventListener('loadeddata', resolve, { once: true });
      });
      await video.play().catch(() => {});
      $('camera-off').hidden = true;
      say($('camera-status'), '');
    } catch (error) {
      say($('camera-status'), mediaErrorMessage(error, 'cam'), 'error');
      $('camera-retry').hidden = false;
    } finally {
      opening = null;
      setBusy(busy);
    }
  })();
  return opening;
}

function closeCamera() {
  for (const track of stream?.getTracks() ?? []) track.stop();
  stream = null;
  video.srcObject = null;
  $('camera-off').hidden = false;
  setBusy(busy);
}

function cameraLost() {
  closeCamera();
  if (step === null) return;
  say($('camera-status'), t('identity.camera.lost'), 'error');
  $('camera-retry').hidden = false;
}

$('camera-retry').addEventListener('click', async () => {
  await openCamera();
  if (cameraReady()) $(`capture-${step}`).focus();
});

// ---- The page ----

/** The next photo to take, once the server's state is known. */
function nextStep() {
  if (state.locked) return null;
  return KINDS.find((kind) => !state[kind]) ?? null;
}

function render() {
  for (const kind of KINDS) {
    const li = $(`progress-${kind}`);
    li.dataset.done = String(state[kind]);
    li.querySelector('.badge').textContent = state[kind] ? '✓' : '•';
    li.querySelector('.progress-state').textContent = t(state[kind] ? 'identity.state.accepted' : 'identity.state.todo');
  }

  const capture = $('capture');
  capture.hidden = step === null;
  if (step) {
    capture.dataset.step = step;
    $('capture-title').textContent = t(`identity.${step}.title`);
    $('capture-guide').textContent = t(`identity.${step}.guide`);
    video.setAttribute('aria-label', t(`identity.${step}.preview`));
    video.classList.toggle('mirrored', step === 'selfie');
    for (const kind of KINDS) $(`capture-${kind}`).hidden = kind !== step;
  }

  $('captured').hidden = !KINDS.some((kind) => state[kind]);
  for (const kind of KINDS) {
    $(`still-${kind}`).hidden = !state[kind];
    const img = $(`still-${kind}-img`);
    img.hidden = !stills[kind];
    if (stills[kind] && img.src !== stills[kind]) img.src = stills[kind];
    img.alt = t(`identity.${kind}.still_alt`);
    // After a reload the photo is not in the page (the server does not give it back).
    $(`still-${kind}-note`).hidden = Boolean(stills[kind]);
    $(`retake-${kind}`).hidden = state.locked;
  }

  $('done').hidden = !state.done || step !== null;
  const incomplete = !state.done && step === null && !state.locked && KINDS.every((kind) => state[kind]);
  if (incomplete) say($('load-status'), t('identity.incomplete'), 'error');

  if (step) openCamera();
  else closeCamera();
  setBusy(busy);
}

/** Takes the photo of `kind` and sends it. */
async function capture(kind) {
  if (busy || step !== kind) return;
  if (!cameraReady()) {
    if (!stream && !opening) await openCamera();
    return;
  }
  setBusy(true);
  feedback(null);
  say($('camera-status'), t('identity.sending'));
  const canvas = document.createElement('canvas');
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  canvas.getContext('2d').drawImage(video, 0, 0, canvas.width, canvas.height);
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.9));
  let res = null;
  if (blob) res = await apiText('PUT', `/api/v1/me/identity/${kind}`, blob, 'image/jpeg').catch(() => null);
  setBusy(false);
  say($('camera-status'), '');
  if (blob && res?.ok) accepted(kind, blob, res.data ?? {});
  else refused(kind, blob ? res : { status: 0, code: 'unreadable_image', message: '' });
}

function accepted(kind, blob, data) {
  if (stills[kind]) URL.revokeObjectURL(stills[kind]);
  stills[kind] = URL.createObjectURL(blob);
  state[kind] = true;
  for (const k of KINDS) if (typeof data[k] === 'boolean') state[k] = data[k];
  state.done = typeof data.done === 'boolean' ? data.done : KINDS.every((k) => state[k]);
  step = nextStep();
  render();
  say($('load-status'), t(`identity.${kind}.accepted`), 'ok');
  focusStatic(step ? $('capture-title') : state.done ? $('done-title') : $('captured-title'));
}

function refused(kind, res) {
  if (res?.code === 'identity_locked') {
    state.locked = true;
    step = null;
    render();
    feedback(res.code, t('identity.error.identity_locked'));
    focusStatic($('feedback'));
    return;
  }
  const code = !res ? 'network' : res.code ?? `http_${res.status}`;
  feedback(code, refusalText(kind, res));
}

for (const kind of KINDS) {
  $(`capture-${kind}`).addEventListener('click', () => capture(kind));
  $(`retake-${kind}`).addEventListener('click', () => {
    if (busy) return;
    step = kind;
    feedback(null);
    say($('load-status'), '');
    render();
    focusStatic($('capture-title'));
  });
}

window.addEventListener('pagehide', () => {
  closeCamera();
  for (const kind of KINDS) if (stills[kind]) URL.revokeObjectURL(stills[kind]);
});

// Where the candidate stands: after a reload, the accepted photos are not taken again.
feedback(null);
const res = await api('GET', '/api/v1/me/identity').catch(() => null);
if (res?.status === 401) {
  say($('load-status'), t('home.signed_out'), 'error');
} else {
  if (res?.ok && res.data) {
    for (const k of ['selfie', 'document', 'done', 'locked']) state[k] = res.data[k] === true;
  } else {
    say($('load-status'), res ? `${t('journey.error')} ${res.message}` : t('journey.network'), 'error');
  }
  step = state.done ? null : nextStep();
  render();
  if (state.locked && !state.done) feedback('identity_locked', t('identity.error.identity_locked'));
}
