// The download rate: times the download of a static file of known size a few times
// (never from a cache) until enough time has passed to mean something.
import { NetworkError } from '../api.js';

const PROBE = '/static/check/probe.bin';
const MIN_TIME_MS = 1500;
const MAX_ROUNDS = 8;

/** kbit/s from bytes received over milliseconds. */
export function kbps(bytes, ms) {
  return ms > 0 ? Math.round((bytes * 8) / ms) : 0;
}

/** Measures; `onProgress(kbpsSoFar)` after each download. Resolves to kbit/s. */
export async function measure(onProgress) {
  let bytes = 0;
  let ms = 0;
  for (let round = 0; round < MAX_ROUNDS && ms < MIN_TIME_MS; round += 1) {
    const started = performance.now();
    let res;
    try {
      res = await fetch(`${PROBE}?nocache=${Date.now()}-${round}`, { cache: 'no-store' });
      if (!res.ok) throw new NetworkError(res.statusText);
      bytes += (await res.arrayBuffer()).byteLength;
    } catch (e) {
      throw e instanceof NetworkError ? e : new NetworkError(e.message);
    }
    ms += performance.now() - started;
    onProgress?.(kbps(bytes, ms));
  }
  return kbps(bytes, ms);
}
