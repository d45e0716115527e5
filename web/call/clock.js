// Durations as the call pages show them: "07:32", "1:02:03".

const pad = (n) => String(n).padStart(2, '0');

/** "mm:ss" (or "h:mm:ss" from one hour) of a duration in milliseconds (never negative). */
export function fmtDuration(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  return hours ? `${hours}:${pad(minutes)}:${pad(seconds)}` : `${pad(minutes)}:${pad(seconds)}`;
}

/** Milliseconds since an RFC 3339 instant, 0 when unknown or in the future (clock skew). */
export function sinceInstant(iso, now = Date.now()) {
  const at = Date.parse(iso ?? '');
  return Number.isNaN(at) ? 0 : Math.max(0, now - at);
}
