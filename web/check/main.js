// The system check: speakers ("Jouer un son"), microphone level, camera preview and
// download rate, then the result is saved (POST /api/v1/me/system-check) once each
// check has run (until then a hint under the button says which are left).
import { api } from '../api.js';
import { h } from '../dom.js';
import { lang, t, tf, translate, withLang } from '../i18n.js';
import { measure } from './bandwidth.js';
import { preview } from './camera.js';
import { mediaErrorMessage } from './media-error.js';
import { HEARD_LEVEL, listen } from './microphone.js';
import { playTone } from './sound.js';

/** Below this rate the candidate is warned (webcam monitoring needs some room). */
const ENOUGH_KBPS = 1000;

translate();
const $ = (id) => document.getElementById(id);
const result = { audio_ok: null, microphone_ok: null, camera_ok: null, bandwidth_kbps: null };
const stops = [];
let micOpen = false; // the microphone listens: its result is whether it heard a voice
let saving = false;
const number = (n) => n.toLocaleString(lang);

function say(id, text, kind = '') {
  $(id).textContent = text;
  $(id).className = `check-status ${kind}`;
}

/** The titles of the checks not run yet (the microphone has run once it is open). */
function notRun() {
  return [
    result.audio_ok === null && 'check.sound.title',
    result.microphone_ok === null && !micOpen && 'check.mic.title',
    result.camera_ok === null && 'check.cam.title',
    result.bandwidth_kbps === null && 'check.net.title',
  ].filter(Boolean);
}

/** "Enregistrer le résultat" waits for every check; the hint says which are left. */
function saveGate() {
  const left = notRun();
  $('save').disabled = saving || left.length > 0;
  $('save-hint').hidden = !left.length;
  $('save-hint').textContent = left.length ? tf('check.save.hint', { checks: left.map((key) => t(key)).join(', ') }) : '';
}

function summary() {
  const line = (key, value) => h('li', { dataset: { ok: String(value === true) } },
    `${t(key)} : ${value === null ? t('check.summary.untested') : value ? t('check.summary.ok') : t('check.summary.ko')}`);
  $('summary').replaceChildren(
    line('check.sound.title', result.audio_ok),
    line('check.mic.title', result.microphone_ok),
    line('check.cam.title', result.camera_ok),
    h('li', { dataset: { ok: String((result.bandwidth_kbps ?? 0) >= ENOUGH_KBPS) } },
      `${t('check.net.title')} : ${result.bandwidth_kbps === null ? t('check.summary.untested') : tf('check.net.value', { kbps: number(result.bandwidth_kbps) })}`));
  saveGate();
}

$('play-sound').addEventListener('click', async () => {
  $('play-sound').disabled = true;
  say('sound-status', t('check.sound.playing'));
  try {
    await playTone();
    say('sound-status', '');
    $('heard').hidden = false;
    $('heard-yes').focus();
  } catch {
    result.audio_ok = false;
    say('sound-status', t('check.sound.failed'), 'error');
    summary();
  }
  $('play-sound').disabled = false;
});
for (const [id, ok] of [['heard-yes', true], ['heard-no', false]]) {
  $(id).addEventListener('click', () => {
    result.audio_ok = ok;
    say('sound-status', ok ? t('check.sound.ok') : t('check.sound.ko'), ok ? 'ok' : 'error');
    summary();
  });
}

$('mic-start').addEventListener('click', async () => {
  $('mic-start').disabled = true;
  say('mic-status', t('check.mic.asking'));
  try {
    stops.push(await listen((value) => {
      $('mic-level').value = value;
      if (value >= HEARD_LEVEL && result.microphone_ok !== true) {
        result.microphone_ok = true;
        say('mic-status', t('check.mic.ok'), 'ok');
        summary();
      }
    }));
    micOpen = true;
    if (result.microphone_ok !== true) say('mic-status', t('check.mic.speak'));
    summary();
  } catch (e) {
    result.microphone_ok = false;
    say('mic-status', mediaErrorMessage(e, 'mic'), 'error');
    $('mic-start').disabled = false;
    summary();
  }
});

$('cam-start').addEventListener('click', async () => {
  $('cam-start').disabled = true;
  say('cam-status', t('check.cam.asking'));
  try {
    stops.push(await preview($('cam-preview')));
    result.camera_ok = true;
    say('cam-status', t('check.cam.ok'), 'ok');
  } catch (e) {
    result.camera_ok = false;
    say('cam-status', mediaErrorMessage(e, 'cam'), 'error');
    $('cam-start').disabled = false;
  }
  summary();
});

async function bandwidth() {
  $('net-start').disabled = true;
  say('net-status', t('check.net.measuring'));
  try {
    const kbps = await measure((so) => say('net-status', tf('check.net.progress', { kbps: number(so) })));
    result.bandwidth_kbps = kbps;
    const enough = kbps >= ENOUGH_KBPS;
    say('net-status', `${tf('check.net.value', { kbps: number(kbps) })} — ${enough ? t('check.net.ok') : t('check.net.low')}`, enough ? 'ok' : 'error');
  } catch {
    result.bandwidth_kbps = 0;
    say('net-status', t('check.net.failed'), 'error');
  }
  $('net-start').disabled = false;
  summary();
}
$('net-start').addEventListener('click', bandwidth);

$('save').addEventListener('click', async () => {
  if (saving || notRun().length) return;
  saving = true;
  saveGate();
  const body = {
    audio_ok: result.audio_ok === true,
    microphone_ok: result.microphone_ok === true,
    camera_ok: result.camera_ok === true,
    bandwidth_kbps: result.bandwidth_kbps ?? 0,
  };
  const res = await api('POST', '/api/v1/me/system-check', body).catch(() => null);
  saving = false;
  saveGate();
  if (!res?.ok) {
    say('save-status', res ? `${t('check.save.failed')} ${res.message}` : t('journey.network'), 'error');
    return;
  }
  const allOk = body.audio_ok && body.microphone_ok && body.camera_ok && body.bandwidth_kbps >= ENOUGH_KBPS;
  const status = $('save-status');
  status.className = `check-status ${allOk ? 'ok' : 'error'}`;
  status.replaceChildren(allOk ? t('check.save.ok') : t('check.save.partial'), ' ',
    h('a', { href: withLang('/app/'), dataset: { testid: 'back-home' } }, t('nav.home')));
});

window.addEventListener('pagehide', () => {
  for (const stop of stops) stop();
});
summary();
