// The sound cue of the waiting room: two short high beeps made with WebAudio (no file).
// The audio context is made once; browsers keep it suspended until the first click or
// key press on the page, so `soundReady()` tells the page whether to ask for one.

let ctx = null;

function context() {
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (!Ctx) return null;
  ctx ??= new Ctx();
  return ctx;
}

/** Whether cues can be heard now (false until the page got a click or a key). */
export function soundReady() {
  return context()?.state === 'running';
}

/** Tries to unlock the cues; resolves to `soundReady()`. Call it from a click. */
export async function unlockSound() {
  const c = context();
  if (!c) return false;
  await c.resume().catch(() => {});
  return c.state === 'running';
}

/** Plays the cue (silently does nothing when the browser does not allow it yet). */
export function beep() {
  const c = context();
  if (!c) return;
  if (c.state !== 'running') c.resume().catch(() => {});
  const start = c.currentTime + 0.02;
  for (const i of [0, 1]) {
    const osc = c.createOscillator();
    const gain = c.createGain();
    const t0 = start + i * 0.22;
    osc.type = 'sine';
    osc.frequency.value = 988;
    gain.gain.setValueAtTime(0, t0);
    gain.gain.linearRampToValueAtTime(0.25, t0 + 0.015);
    gain.gain.exponentialRampToValueAtTime(0.001, t0 + 0.16);
    osc.connect(gain).connect(c.destination);
    osc.start(t0);
    osc.stop(t0 + 0.18);
  }
}
