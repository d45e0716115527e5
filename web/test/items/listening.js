// "Compréhension orale": a play button (at most `max_plays` plays, counted by whoever
// gives the clip: the server in the real test, the page in the demo and practice),
// then a multiple choice or a text with gaps. The clip is played from a Blob URL,
// with no seek bar, so replaying always goes through the button.
import { h } from '../../dom.js';
import { lang, t, tf } from '../../i18n.js';
import { NetworkError } from '../../api.js';
import { renderChoice } from './choice.js';
import { renderTextGaps } from './text-gaps.js';

function clock(seconds) {
  const s = Number.isFinite(seconds) ? Math.floor(seconds) : 0;
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/**
 * `ctx.playClip(item)` resolves to `{ blob }`, or `{ limit: true }` when no play is
 * left; it throws NetworkError when the clip could not be fetched.
 * Response: as `choice` or `text_gaps`.
 */
export function renderListening(item, ctx) {
  let left = Math.max(0, item.max_plays - (item.plays_used ?? 0));
  let audio = null;
  let url = null;
  let busy = false;

  const play = h('button', { type: 'button', class: 'play', dataset: { testid: 'play' }, on: { click: onPlay } });
  const leftEl = h('span', { class: 'plays-left', dataset: { testid: 'plays-left' } });
  const progress = h('span', { class: 'clip-progress', 'aria-hidden': 'true', dataset: { testid: 'clip-progress' } });
  const status = h('p', { class: 'clip-status', lang, role: 'status' });

  // While a clip plays the button only says so (aria-disabled keeps the focus on it);
  // once no play is left it is disabled, the focus first moving on to the answer.
  function sync() {
    play.textContent = busy ? t('item.listening.playing') : t('item.listening.play');
    play.setAttribute('aria-disabled', String(busy));
    const spent = !busy && left <= 0;
    if (spent && document.activeElement === play) el.querySelector('input, select')?.focus();
    play.disabled = spent;
    leftEl.textContent = tf('item.listening.left', { n: left });
  }

  function release() {
    if (audio) audio.pause();
    if (url) URL.revokeObjectURL(url);
    audio = null;
    url = null;
  }

  async function onPlay() {
    if (busy || left <= 0) return;
    busy = true;
    status.textContent = t('item.listening.loading');
    sync();
    try {
      const clip = await ctx.playClip(item);
      if (clip.limit) {
        left = 0;
        busy = false;
        status.textContent = t('item.listening.limit');
      } else {
        left -= 1;
        release();
        url = URL.createObjectURL(clip.blob);
        const playing = new Audio(url);
        audio = playing;
        playing.addEventListener('timeupdate', () => {
          progress.textContent = `${clock(playing.currentTime)} / ${clock(playing.duration)}`;
        });
        playing.addEventListener('ended', () => {
          busy = false;
          status.textContent = left > 0 ? t('item.listening.ended') : t('item.listening.ended.last');
          sync();
        });
        await playing.play();
        status.textContent = t('item.listening.started');
      }
    } catch (e) {
      busy = false;
      status.textContent = e instanceof NetworkError ? t('item.listening.network') : t('item.listening.failed');
    }
    sync();
  }

  const answer = item.response === 'text_gaps'
    ? renderTextGaps({ text: item.text, gaps: item.gaps })
    : renderChoice({ stem: item.stem, options: item.options });
  const el = h('div', { class: 'listening' },
    h('div', { class: 'player', lang }, play, ' ', leftEl, ' ', progress),
    status,
    item.response === 'text_gaps' ? h('p', { class: 'stem' }, item.stem) : null,
    answer.el);
  sync();
  return { el, response: answer.response, dispose: release };
}
