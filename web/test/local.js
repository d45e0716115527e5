// What the demo and the practice share: a question timed by the page's own clock,
// and listening clips fetched from `clip_url` (plays are counted by the page).
import { apiBlob } from '../api.js';
import { localClock } from './clock.js';
import { questionScreen } from './screen.js';

/** A `playClip` for items whose clips are plain files; each clip is fetched once. */
export function clipFetcher() {
  const cache = new Map();
  return async (item) => {
    if (!cache.has(item.id)) {
      const res = await apiBlob('GET', item.clip_url);
      if (!res.ok) throw new Error(res.message);
      cache.set(item.id, res.blob);
    }
    return { blob: cache.get(item.id) };
  };
}

/** Shows `item` with a timer running from now; `onExpire` is called when time is up. */
export function localQuestion(stage, { title, item, playClip, onExpire }) {
  const now = performance.now();
  const clock = localClock(now);
  return questionScreen(stage, {
    title,
    item,
    ctx: { playClip },
    timer: { limitMs: item.time_limit_ms, deadlineMs: clock.now(now) + item.time_limit_ms, clock, onExpire },
  });
}
