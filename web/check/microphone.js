// The microphone level: an AnalyserNode on the microphone's stream, its RMS level
// shown in a <meter> many times a second.
import { getMedia } from './media-error.js';

/** Level above which we consider the microphone hears something. */
export const HEARD_LEVEL = 0.02;

/** RMS of time-domain samples in [-1, 1], scaled so speech fills most of the meter. */
export function level(samples) {
  let sum = 0;
  for (const s of samples) sum += s * s;
  return Math.min(1, Math.sqrt(sum / samples.length) * 4);
}

/**
 * Starts listening; `onLevel(value)` is called about 20 times a second.
 * Resolves to `stop()` once the microphone is open; rejects when it cannot be.
 */
export async function listen(onLevel) {
  const stream = await getMedia({ audio: true });
  const Ctx = window.AudioContext || window.webkitAudioContext;
  const ctx = new Ctx();
  await ctx.resume();
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 1024;
  ctx.createMediaStreamSource(stream).connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  const timer = setInterval(() => {
    analyser.getFloatTimeDomainData(samples);
    onLevel(level(samples));
  }, 50);
  return () => {
    clearInterval(timer);
    for (const track of stream.getTracks()) track.stop();
    ctx.close();
  };
}
